// The job provider: a Kubernetes Job from the metric's metadata and spec, owned by the
// AnalysisRun, named deterministically (`<run uid>.<metric>.<n>`) so a retried activity
// finds the Job it already made instead of starting a second one. Complete → Successful,
// Failed → Failed; terminating deletes the Job and the measurement is Inconclusive.
import {
  ANALYSIS_RUN_METRIC_NAME_ANNOTATION,
  ANALYSIS_RUN_NAME_ANNOTATION,
  ANALYSIS_RUN_NAMESPACE_ANNOTATION,
  ANALYSIS_RUN_UID_LABEL,
  FIELD_MANAGER,
} from '../../domain/argo/names';
import { isConflict, isNotFound, Resources, type KubeObject } from '../../k8s/kube-client';
import type { Measurement } from '../../domain/analysis/types';
import type { MeasurementContext, MetricProvider } from './provider';
import { measurementError, now } from './provider';

const DNS_LABEL_LIMIT = 63;
const TERMINAL_WAITING_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);

export function jobName(ctx: Pick<MeasurementContext, 'run' | 'metric' | 'measurementNumber'>): string {
  const name = `${ctx.run.uid}.${ctx.metric.name}.${ctx.measurementNumber}`;
  if (name.length <= DNS_LABEL_LIMIT) return name;
  const over = name.length - DNS_LABEL_LIMIT;
  return `${ctx.run.uid}.${ctx.metric.name.slice(0, ctx.metric.name.length - over)}.${ctx.measurementNumber}`;
}

function jobObject(ctx: MeasurementContext): KubeObject {
  const job = ctx.metric.provider.job!;
  const spec = structuredClone(job.spec ?? {});
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = { ...(spec.template.metadata.labels ?? {}), [ANALYSIS_RUN_UID_LABEL]: ctx.run.uid };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(ctx),
      namespace: ctx.run.namespace,
      labels: { ...(job.metadata?.labels ?? {}), [ANALYSIS_RUN_UID_LABEL]: ctx.run.uid },
      annotations: {
        ...(job.metadata?.annotations ?? {}),
        [ANALYSIS_RUN_NAME_ANNOTATION]: ctx.run.name,
        [ANALYSIS_RUN_NAMESPACE_ANNOTATION]: ctx.run.namespace,
        [ANALYSIS_RUN_METRIC_NAME_ANNOTATION]: ctx.metric.name,
      },
      ownerReferences: [
        { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun', name: ctx.run.name, uid: ctx.run.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec,
  };
}

const jobRef = (m: Measurement, ns: string) => ({ name: m.metadata?.['job-name'] ?? '', namespace: m.metadata?.['job-namespace'] ?? ns });

export const jobProvider: MetricProvider = {
  async run(ctx) {
    const startedAt = now();
    const body = jobObject(ctx);
    const name = body.metadata.name;
    try {
      await ctx.kube.create(Resources.job, ctx.run.namespace, body, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      if (!isConflict(err)) return measurementError(startedAt, new Error(`creating Job ${ctx.run.namespace}/${name}: ${(err as Error).message}`));
      const existing = await ctx.kube.get(Resources.job, ctx.run.namespace, name);
      if (existing.metadata.labels?.[ANALYSIS_RUN_UID_LABEL] !== ctx.run.uid) {
        return measurementError(startedAt, new Error(`Job ${ctx.run.namespace}/${name} exists and does not belong to AnalysisRun ${ctx.run.name}`));
      }
      // Ours already: this is a retry of a measurement whose first attempt made the Job.
    }
    return { phase: 'Running', startedAt, metadata: { 'job-name': name, 'job-namespace': ctx.run.namespace } };
  },

  async resume(ctx, m) {
    const ref = jobRef(m, ctx.run.namespace);
    let job: KubeObject;
    try {
      job = await ctx.kube.get(Resources.job, ref.namespace, ref.name);
    } catch (err) {
      return { ...measurementError(m.startedAt ?? now(), err), metadata: m.metadata };
    }
    for (const c of (job.status?.conditions ?? []) as { type: string; status: string; message?: string }[]) {
      if (c.status !== 'True') continue;
      if (c.type === 'Complete') return { ...m, phase: 'Successful', finishedAt: now() };
      if (c.type === 'Failed') return { ...m, phase: 'Failed', finishedAt: now(), ...(c.message ? { message: c.message } : {}) };
    }
    // As Argo: a pod that can never start makes the measurement Inconclusive rather than wait forever.
    const { items: pods } = await ctx.kube.list(Resources.pod, ref.namespace, {
      labelSelector: `${ANALYSIS_RUN_UID_LABEL}=${ctx.run.uid},job-name=${ref.name}`,
    });
    for (const pod of pods) {
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as {
        name: string;
        state?: { waiting?: { reason?: string; message?: string } };
      }[];
      for (const cs of statuses) {
        const waiting = cs.state?.waiting;
        if (waiting?.reason && TERMINAL_WAITING_REASONS.has(waiting.reason)) {
          return {
            ...m,
            phase: 'Inconclusive',
            finishedAt: now(),
            message: `Pod ${pod.metadata.name}, container ${cs.name} has terminal error (${waiting.reason}): ${waiting.message ?? ''}`,
          };
        }
      }
    }
    return m;
  },

  async terminate(ctx, m) {
    const ref = jobRef(m, ctx.run.namespace);
    try {
      if (ref.name) await ctx.kube.delete(Resources.job, ref.namespace, ref.name, 'Background');
    } catch (err) {
      if (!isNotFound(err)) return { ...measurementError(m.startedAt ?? now(), err), metadata: m.metadata };
    }
    return { ...m, phase: 'Inconclusive', finishedAt: now(), message: 'Metric Terminated' };
  },
};
