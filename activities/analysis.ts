// Kubernetes and metric-provider I/O for AnalysisRun workflows. Each measurement is
// one activity named after its provider (queryPrometheus, callWebMetric, runJobMetric),
// so Temporal UI reads as the analysis did. Secret args are read here and only here:
// their values never enter workflow history, status, logs or error messages.
import { FIELD_MANAGER, POD_TEMPLATE_HASH_LABEL, ROLLOUT_TYPE_LABEL, STEP_INDEX_LABEL } from '../domain/argo/names';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isConflict, isNotFound, isRefused, Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';
import { ArgumentError, resolveMetricArgs, resolveRolloutArgs, type RolloutAnalysisArg } from '../domain/analysis/args';
import { AnalysisSpecError, buildRunSpec, type NamedTemplate } from '../domain/analysis/templates';
import {
  isCompleted,
  type AnalysisPhase,
  type AnalysisRunSpec,
  type AnalysisRunStatus,
  type AnalysisTemplateSpec,
  type Argument,
  type DryRunRule,
  type Measurement,
  type MeasurementRetentionRule,
  type Metric,
} from '../domain/analysis/types';
import { jobName, jobProvider } from './metric-providers/job';
import { prometheusProvider } from './metric-providers/prometheus';
import type { MeasurementContext, MetricProvider } from './metric-providers/provider';
import { webProvider } from './metric-providers/web';

export interface AnalysisRunRef {
  namespace: string;
  name: string;
}

export interface LoadedAnalysisRun {
  exists: boolean;
  uid: string;
  /** Only what fieldRef args may read; never secrets. */
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: AnalysisRunSpec;
  status?: Partial<AnalysisRunStatus>;
}

export interface MeasureRequest {
  run: AnalysisRunRef & { uid: string };
  /** The metric as written, `{{args.x}}` not yet substituted. */
  metric: Metric;
  /** The run's args: values, and secretKeyRefs still unresolved. */
  args: Argument[];
  measurementNumber: number;
  /** For runJobMetric after a restart / terminateJobMetric: the measurement in flight. */
  inFlight?: Measurement;
  /**
   * When the measurement is due (epoch ms). The workflow's timer fires a little early, to
   * cover the time a woken workflow takes to reach this activity; the rest is waited here,
   * on an in-process timer, so a measurement starts on time.
   */
  notBefore?: number;
  /**
   * A status to write before measuring (analysis-status-in-measurement): one the history
   * already has all of (an earlier measurement's, or the first one, decided from the
   * load), carried by the next measurement's local activity instead of one of its own.
   */
  statusFirst?: AnalysisRunStatus;
}

/** Rollout-side input of an analysis (see workflows/analysis/rollout-analysis.ts). */
export interface RolloutAnalysisInput {
  rollout: { namespace: string; name: string; uid: string };
  analysis: {
    templates: { templateName: string; clusterScope?: boolean }[];
    args?: RolloutAnalysisArg[];
    dryRun?: DryRunRule[];
    measurementRetention?: MeasurementRetentionRule[];
  };
  kind: 'Step' | 'Background' | 'PrePromotion' | 'PostPromotion';
  stepIndex?: number;
  revision: string;
  podHashes: { stable?: string; latest: string };
  /**
   * The run this analysis already has (after the rollout continued as new): followed as it
   * is, even if it has completed meanwhile. Without it, an existing completed run of the
   * same name means a new attempt (abort, then retry) and gets Argo's `.1`, `.2` suffix.
   */
  reattachTo?: string;
}

const REDACTED = '*****';
/** Bounds the in-process wait before a due measurement (the workflow's lead is far smaller). */
const MAX_EARLY_MS = 5000;
const HEARTBEAT_MS = 1000;

function redact(m: Measurement, secrets: string[]): Measurement {
  const hide = (s: string | undefined) => (s === undefined ? s : secrets.reduce((acc, secret) => (secret ? acc.split(secret).join(REDACTED) : acc), s));
  const out: Measurement = { ...m };
  if (out.message !== undefined) out.message = hide(out.message);
  if (out.value !== undefined) out.value = hide(out.value);
  return out;
}

/** Waits, on an in-process timer, until a measurement is due (cancellable). */
function untilDue(notBefore: number | undefined, signal: AbortSignal): Promise<void> {
  const wait = notBefore === undefined ? 0 : Math.min(notBefore - Date.now(), MAX_EARLY_MS);
  if (wait <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, wait);
    signal.addEventListener('abort', done);
  });
}

/** Runs `fn` while heartbeating, so a dead worker is noticed within seconds and cancellation arrives. */
async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  if (ctx.info.isLocal) return fn(); // local activities do not heartbeat
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

export function createAnalysisActivities(kube: KubeClient) {
  /** Secret args resolved; returns the metric ready to measure and the secret values to redact. */
  async function prepare(req: MeasureRequest): Promise<{ metric: Metric; secrets: string[] }> {
    const secrets: string[] = [];
    const args: Argument[] = [];
    for (const arg of req.args) {
      const ref = arg.valueFrom?.secretKeyRef;
      if (!ref) {
        args.push(arg);
        continue;
      }
      const secret = await kube.find(Resources.secret, req.run.namespace, ref.name);
      if (!secret) throw ApplicationFailure.nonRetryable(`args.${arg.name}: secret "${ref.name}" not found in namespace ${req.run.namespace}`, 'ArgumentError');
      const data = (secret as KubeObject & { data?: Record<string, string> }).data ?? {};
      if (data[ref.key] === undefined)
        throw ApplicationFailure.nonRetryable(`args.${arg.name}: key '${ref.key}' does not exist in secret '${ref.name}'`, 'ArgumentError');
      const value = Buffer.from(data[ref.key], 'base64').toString('utf8');
      secrets.push(value);
      args.push({ name: arg.name, value });
    }
    try {
      return { metric: resolveMetricArgs(req.metric, args), secrets };
    } catch (err) {
      if (err instanceof ArgumentError) throw ApplicationFailure.nonRetryable(err.message, 'ArgumentError');
      throw err;
    }
  }

  function context(req: MeasureRequest, metric: Metric): MeasurementContext {
    const act = Context.current();
    return { run: req.run, metric, measurementNumber: req.measurementNumber, kube, heartbeat: () => act.heartbeat(), signal: act.cancellationSignal };
  }

  /** False when the object is gone or was replaced by another with the same name; else when it was written. */
  async function writeStatus(ref: AnalysisRunRef, uid: string, status: AnalysisRunStatus): Promise<string | false> {
    try {
      // A merge patch keeps keys it does not mention: clear a message that no longer applies.
      await kube.patch(
        Resources.analysisRun,
        ref.namespace,
        ref.name,
        { metadata: { uid }, status: { ...status, message: status.message ?? null } },
        { subresource: 'status', fieldManager: FIELD_MANAGER },
      );
      return new Date().toISOString();
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false;
      if (isRefused(err)) {
        throw ApplicationFailure.nonRetryable(`writing status of AnalysisRun ${ref.namespace}/${ref.name}: ${err.message}`, err.reason);
      }
      throw err;
    }
  }

  /**
   * The carried status first: a run gone or replaced is not measured (AnalysisRunGone); a
   * status refused (too large) is logged and the measurement taken, as the workflow does
   * with a refused write of its own (the next write carries the state again).
   */
  async function writeStatusFirst(req: MeasureRequest): Promise<void> {
    if (!req.statusFirst) return;
    try {
      if (!(await writeStatus(req.run, req.run.uid, req.statusFirst)))
        throw ApplicationFailure.nonRetryable(`AnalysisRun ${req.run.namespace}/${req.run.name} was deleted or replaced`, 'AnalysisRunGone');
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || !err.nonRetryable || err.type === 'AnalysisRunGone') throw err;
      Context.current().log.warn('status write refused', { analysisRun: `${req.run.namespace}/${req.run.name}`, error: err.message });
    }
  }

  async function measure(provider: MetricProvider, req: MeasureRequest): Promise<Measurement> {
    await writeStatusFirst(req);
    const { metric, secrets } = await prepare(req);
    await untilDue(req.notBefore, Context.current().cancellationSignal);
    return redact(await withHeartbeat(() => provider.run(context(req, metric))), secrets);
  }

  async function template(namespace: string, name: string, clusterScope: boolean): Promise<NamedTemplate> {
    const obj = clusterScope
      ? await kube.find(Resources.clusterAnalysisTemplate, undefined, name)
      : await kube.find(Resources.analysisTemplate, namespace, name);
    if (!obj) {
      const what = clusterScope ? `ClusterAnalysisTemplate "${name}"` : `AnalysisTemplate "${name}" in namespace ${namespace}`;
      throw ApplicationFailure.nonRetryable(`${what} not found`, 'TemplateNotFound');
    }
    return { name, clusterScope, spec: (obj.spec ?? {}) as AnalysisTemplateSpec };
  }

  return {
    async loadAnalysisRun(ref: AnalysisRunRef): Promise<LoadedAnalysisRun> {
      const obj = await kube.find(Resources.analysisRun, ref.namespace, ref.name);
      const metadata = { name: ref.name, namespace: ref.namespace, labels: obj?.metadata.labels ?? {}, annotations: obj?.metadata.annotations ?? {} };
      if (!obj || obj.metadata.deletionTimestamp) return { exists: false, uid: '', metadata, spec: { metrics: [] } };
      return { exists: true, uid: obj.metadata.uid ?? '', metadata, spec: (obj.spec ?? { metrics: [] }) as AnalysisRunSpec, status: obj.status };
    },

    /** False when the object is gone or was replaced by another with the same name; else when it was written. */
    async writeAnalysisRunStatus(ref: AnalysisRunRef, uid: string, status: AnalysisRunStatus): Promise<string | false> {
      return writeStatus(ref, uid, status);
    },

    async deleteAnalysisRun(ref: AnalysisRunRef, uid: string): Promise<void> {
      const obj = await kube.find(Resources.analysisRun, ref.namespace, ref.name);
      if (obj && obj.metadata.uid === uid) await kube.delete(Resources.analysisRun, ref.namespace, ref.name);
    },

    async queryPrometheus(req: MeasureRequest): Promise<Measurement> {
      return measure(prometheusProvider, req);
    },

    async callWebMetric(req: MeasureRequest): Promise<Measurement> {
      return measure(webProvider, req);
    },

    /** Creates the measurement's Job (or finds the one an earlier attempt made): a Running measurement naming it. */
    async startJobMetric(req: MeasureRequest): Promise<Measurement> {
      const { metric, secrets } = await prepare(req);
      return redact(await jobProvider.run(context(req, metric)), secrets);
    },

    /** Waits, heartbeating, until the measurement's Job finishes (creating it first if need be). */
    async runJobMetric(req: MeasureRequest): Promise<Measurement> {
      const { metric, secrets } = await prepare(req);
      const ctx = context(req, metric);
      return withHeartbeat(async () => {
        let m = req.inFlight?.phase === 'Running' && req.inFlight.metadata?.['job-name'] ? req.inFlight : await jobProvider.run(ctx);
        while (m.phase === 'Running') {
          await new Promise((resolve) => setTimeout(resolve, 500));
          if (ctx.signal.aborted) break; // terminated: the workflow calls terminateJobMetric
          m = await jobProvider.resume(ctx, m);
        }
        return redact(m, secrets);
      });
    },

    async terminateJobMetric(req: MeasureRequest): Promise<Measurement> {
      const { metric } = await prepare(req);
      const ctx = context(req, metric);
      const inFlight = req.inFlight ?? { phase: 'Running' as AnalysisPhase, startedAt: new Date().toISOString() };
      // The workflow may not have learnt the Job's name yet; it is deterministic.
      const metadata = inFlight.metadata?.['job-name'] ? inFlight.metadata : { 'job-name': jobName(ctx), 'job-namespace': req.run.namespace };
      return jobProvider.terminate(ctx, { ...inFlight, metadata });
    },

    /** Creates the AnalysisRun a rollout asks for, from its templates; idempotent. */
    async createRolloutAnalysisRun(input: RolloutAnalysisInput): Promise<{ name: string }> {
      const { rollout } = input;
      if (input.reattachTo) {
        const existing = await kube.find(Resources.analysisRun, rollout.namespace, input.reattachTo);
        if (existing?.metadata.ownerReferences?.some((o) => o.uid === rollout.uid && o.controller)) return { name: input.reattachTo };
      }
      const ro = await kube.find(Resources.rollout, rollout.namespace, rollout.name);
      if (!ro) throw ApplicationFailure.nonRetryable(`rollout ${rollout.namespace}/${rollout.name} not found`, 'RolloutNotFound');
      const templates: NamedTemplate[] = [];
      for (const t of input.analysis.templates) templates.push(await template(rollout.namespace, t.templateName, !!t.clusterScope));
      let spec: AnalysisRunSpec;
      try {
        const args = resolveRolloutArgs(input.analysis.args ?? [], input.podHashes, ro);
        spec = buildRunSpec(templates, args, input.analysis.dryRun, input.analysis.measurementRetention);
      } catch (err) {
        if (err instanceof AnalysisSpecError || err instanceof ArgumentError) {
          throw ApplicationFailure.nonRetryable(
            `analysis of rollout ${rollout.namespace}/${rollout.name} (templates ${input.analysis.templates.map((t) => t.templateName).join(', ')}): ${err.message}`,
            'InvalidAnalysis',
          );
        }
        throw err;
      }
      const base = rolloutAnalysisRunName(input);
      const labels: Record<string, string> = { [POD_TEMPLATE_HASH_LABEL]: input.podHashes.latest, [ROLLOUT_TYPE_LABEL]: input.kind };
      if (input.kind === 'Step') labels[STEP_INDEX_LABEL] = String(input.stepIndex ?? 0);
      for (let collision = 0; ; collision++) {
        const name = collision === 0 ? base : `${base}.${collision}`;
        const body = {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'AnalysisRun',
          metadata: {
            name,
            namespace: rollout.namespace,
            labels,
            ownerReferences: [
              { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: rollout.name, uid: rollout.uid, controller: true, blockOwnerDeletion: true },
            ],
          },
          spec,
        };
        try {
          await kube.create(Resources.analysisRun, rollout.namespace, body, { fieldManager: FIELD_MANAGER });
          return { name };
        } catch (err) {
          if (!isConflict(err)) {
            if (isRefused(err)) {
              throw ApplicationFailure.nonRetryable(`creating AnalysisRun ${rollout.namespace}/${name}: ${err.message}`, err.reason);
            }
            throw err;
          }
          // Ours, still running, same spec: an earlier attempt of this very call made it.
          const existing = await kube.get(Resources.analysisRun, rollout.namespace, name);
          const ours = existing.metadata.ownerReferences?.some((o) => o.uid === rollout.uid && o.controller);
          if (ours && !isCompleted(existing.status?.phase) && sameSpec(existing.spec, spec)) return { name };
        }
      }
    },

    async readAnalysisRunOutcome(ref: AnalysisRunRef): Promise<{ phase?: AnalysisPhase; message: string; exists: boolean }> {
      const obj = await kube.find(Resources.analysisRun, ref.namespace, ref.name);
      return { exists: !!obj, phase: obj?.status?.phase, message: obj?.status?.message ?? '' };
    },
  };
}

function sameSpec(a: AnalysisRunSpec | undefined, b: AnalysisRunSpec): boolean {
  const key = (s: AnalysisRunSpec | undefined) =>
    JSON.stringify({ metrics: s?.metrics, dryRun: s?.dryRun, measurementRetention: s?.measurementRetention, args: s?.args });
  return key(a) === key(b);
}

/** Argo's names: `<rollout>-<hash>-<revision>[-<step>|-pre|-post]`. */
export function rolloutAnalysisRunName(input: Pick<RolloutAnalysisInput, 'rollout' | 'kind' | 'stepIndex' | 'revision' | 'podHashes'>): string {
  const base = `${input.rollout.name}-${input.podHashes.latest}-${input.revision}`;
  switch (input.kind) {
    case 'Step':
      return `${base}-${input.stepIndex ?? 0}`;
    case 'PrePromotion':
      return `${base}-pre`;
    case 'PostPromotion':
      return `${base}-post`;
    default:
      return base;
  }
}

export type AnalysisActivities = ReturnType<typeof createAnalysisActivities>;
