// Starts and wakes notifications/rollout/<ns>/<name> for Rollouts something subscribes (an
// annotation on the Rollout, or a `subscriptions` entry of argo-rollouts-notification-
// configmap whose selector matches it): on a change of what its events are read from (the
// Rollout's status, replica counts, pause and abort; its AnalysisRuns' phases). A Rollout
// nothing subscribes costs no workflow. Signals only say "look again", so duplicates and
// several Sluice processes at once are harmless.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Resources, type KubeClient, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import { inform } from '../k8s/informer';
import { notificationsNudgeSignal, rolloutNotificationsWorkflowId } from '../workflows/definitions';
import { rolloutNotificationsWorkflow } from '../workflows/rollout-notifications';
import { ROLLOUT_NOTIFICATIONS_CONFIGMAP } from '../activities/notifications/activities';
import { parseNotificationConfig, type DefaultSubscription } from '../domain/notifications/config';
import { ROLLOUTS_CATALOG } from '../domain/notifications/rollout-catalog';
import { isSubscribed } from '../domain/notifications/subscriptions';
import { Nudger } from './nudger';
import type { Shards } from './replica-shards';

export interface RolloutNotificationsWatcherOptions {
  /** Who signals which workflow when several replicas run (worker/replica-shards.ts). */
  shards?: Shards;
  kube: KubeClient;
  client: Client;
  taskQueue: string;
  namespace?: string;
  useSearchAttributes: boolean;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

type Ref = { namespace: string; name: string };

export class RolloutNotificationsWatcher {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly nudger: Nudger;
  private readonly defaultSubscriptions = new Map<string, DefaultSubscription[]>();
  /** Rollouts' metadata (subscriptions are read from it), by workflow ID. */
  private readonly rollouts = new Map<string, KubeObject['metadata']>();
  /** Workflows started by this process, with what they last heard of. */
  private readonly started = new Map<string, string>();
  private readonly runPhases = new Map<string, string>();

  constructor(private readonly opts: RolloutNotificationsWatcherOptions) {
    this.nudger = new Nudger((key, err) => {
      if (err instanceof WorkflowNotFoundError) return;
      opts.log('signal failed', { workflowId: key, error: String(err) });
    }, opts.shards);
  }

  start(): void {
    this.loops.push(
      inform({ ...this.informOptions(Resources.configMap), fieldSelector: `metadata.name=${ROLLOUT_NOTIFICATIONS_CONFIGMAP}` }, (type, cm) => {
        const ns = cm.metadata.namespace!;
        if (type === 'DELETED') this.defaultSubscriptions.delete(ns);
        else
          this.defaultSubscriptions.set(ns, parseNotificationConfig((cm as { data?: Record<string, string> }).data ?? {}, {}, ROLLOUTS_CATALOG).subscriptions);
        // Rollouts it newly subscribes start now, not at their next change.
        for (const [workflowId, metadata] of this.rollouts) {
          if (metadata.namespace === ns && !this.started.has(workflowId)) this.onChange(workflowId, { namespace: ns, name: metadata.name }, metadata, '');
        }
      }),
      inform(this.informOptions(Resources.rollout), (type, ro) => this.onRollout(type, ro)),
      inform(this.informOptions(Resources.analysisRun), (type, run) => this.onAnalysisRun(type, run)),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.nudger.cancelDeferred();
    await Promise.allSettled(this.loops);
  }

  private informOptions(resource: ResourceRef) {
    return { kube: this.opts.kube, resource, namespace: this.opts.namespace, signal: this.abort.signal, log: this.opts.log };
  }

  private onRollout(type: string, ro: KubeObject): void {
    const ref = { namespace: ro.metadata.namespace!, name: ro.metadata.name };
    const workflowId = rolloutNotificationsWorkflowId(ref);
    if (type === 'DELETED') {
      this.rollouts.delete(workflowId);
      if (this.started.delete(workflowId)) this.nudge(workflowId);
      return;
    }
    this.rollouts.set(workflowId, {
      name: ro.metadata.name,
      namespace: ro.metadata.namespace,
      labels: ro.metadata.labels,
      annotations: ro.metadata.annotations,
    });
    this.onChange(workflowId, ref, ro.metadata, rolloutFingerprint(ro));
  }

  /** A run's phase is what its events are about; the Rollout that owns it looks again. */
  private onAnalysisRun(type: string, run: KubeObject): void {
    const owner = (run.metadata as { ownerReferences?: { kind?: string; name?: string }[] }).ownerReferences?.find((o) => o.kind === 'Rollout');
    if (!owner?.name) return;
    const key = `${run.metadata.namespace}/${run.metadata.name}`;
    const phase = type === 'DELETED' ? '' : ((run as { status?: { phase?: string } }).status?.phase ?? '');
    if (type === 'DELETED') this.runPhases.delete(key);
    else if (this.runPhases.get(key) === phase) return;
    else this.runPhases.set(key, phase);
    const workflowId = rolloutNotificationsWorkflowId({ namespace: run.metadata.namespace!, name: owner.name });
    if (this.started.has(workflowId)) this.nudge(workflowId);
  }

  private onChange(workflowId: string, ref: Ref, metadata: KubeObject['metadata'], fingerprint: string): void {
    const known = this.started.get(workflowId);
    if (known === undefined && !isSubscribed(this.defaultSubscriptions.get(ref.namespace) ?? [], { metadata })) return;
    if (known === fingerprint && fingerprint !== '') return;
    this.started.set(workflowId, fingerprint);
    const { client, taskQueue, useSearchAttributes } = this.opts;
    this.nudger.nudge(workflowId, async () => {
      await client.workflow.signalWithStart(rolloutNotificationsWorkflow, {
        workflowId,
        taskQueue,
        args: [ref],
        signal: notificationsNudgeSignal,
        signalArgs: [],
        staticSummary: `notifications of Rollout ${ref.namespace}/${ref.name}`,
        ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['Notifications'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
      });
    });
  }

  private nudge(workflowId: string): void {
    this.nudger.nudge(workflowId, () => this.opts.client.workflow.getHandle(workflowId).signal(notificationsNudgeSignal));
  }
}

/** What Rollouts' events are read from: revision, step, pause, abort, phase and replica counts; subscriptions. */
export function rolloutFingerprint(ro: KubeObject): string {
  const st = (ro as { status?: Record<string, unknown> }).status ?? {};
  const spec = (ro as { spec?: { paused?: boolean; replicas?: number } }).spec ?? {};
  return JSON.stringify([
    st.currentPodHash,
    st.stableRS,
    st.currentStepIndex,
    st.pauseConditions,
    st.abort,
    st.abortedAt,
    st.phase,
    st.replicas,
    st.updatedReplicas,
    spec.paused,
    spec.replicas,
    ro.metadata.annotations ?? {},
    ro.metadata.labels ?? {},
  ]);
}
