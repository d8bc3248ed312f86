// Turns Kubernetes object changes into workflow signals. A Rollout change starts its
// workflow if needed (signalWithStart with the deterministic ID rollout/<ns>/<name>),
// a ReplicaSet change nudges the workflow of the Rollout that owns it. Signals carry
// only "look again", so duplicates and several watchers at once are harmless.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Resources, type KubeClient, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import { nudgeSignal, rolloutWorkflowId } from '../workflows/definitions';
import { POD_TEMPLATE_HASH_LABEL } from '../domain/argo/names';
import type { RolloutCache } from '../activities/rollout-cache';
import type { ObjectStore } from '../k8s/object-store';
import { inform } from '../k8s/informer';
import { Nudger } from './nudger';
import type { Shards } from './replica-shards';
import { rolloutWorkflow } from '../workflows/rollout';

export interface WatcherOptions {
  /** Who signals which workflow when several replicas run (worker/replica-shards.ts). */
  shards?: Shards;
  kube: KubeClient;
  client: Client;
  taskQueue: string;
  namespace?: string;
  useSearchAttributes: boolean;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Kept up to date from the same watches, for the rollout activities to read. */
  cache?: RolloutCache;
}

export class Watcher {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly nudger: Nudger;

  constructor(private readonly opts: WatcherOptions) {
    this.nudger = new Nudger((key, err) => {
      if (err instanceof WorkflowNotFoundError) return; // nothing to nudge: the Rollout's workflow will start on its own event
      opts.log('signal failed', { workflowId: key, error: String(err) });
    }, opts.shards);
  }

  start(): void {
    const { cache } = this.opts;
    // The copy is updated before the nudge goes out, so the pass it causes sees the change.
    const keep = (copy: ObjectStore | undefined, type: string, obj: KubeObject) => (type === 'DELETED' ? copy?.remove(obj) : copy?.upsert(obj));
    const relist = (copy: ObjectStore | undefined) => (copy ? (items: KubeObject[]) => copy.replace(items) : undefined);
    this.loops.push(
      inform(this.informOptions(Resources.rollout), (type, ro) => (keep(cache?.rollouts, type, ro), this.onRollout(type, ro)), relist(cache?.rollouts)),
    );
    this.loops.push(
      inform(
        this.informOptions(Resources.replicaSet, POD_TEMPLATE_HASH_LABEL),
        (type, rs) => (keep(cache?.replicaSets, type, rs), this.onReplicaSet(type, rs)),
        relist(cache?.replicaSets),
      ),
    );
    if (cache) this.loops.push(inform(this.informOptions(Resources.service), (type, svc) => keep(cache.services, type, svc), relist(cache.services)));
  }

  private informOptions(resource: ResourceRef, labelSelector?: string) {
    return { kube: this.opts.kube, resource, namespace: this.opts.namespace, labelSelector, signal: this.abort.signal, log: this.opts.log };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.nudger.cancelDeferred();
    await Promise.allSettled(this.loops);
  }

  /**
   * What about a Rollout can call for a decision: its spec (generation) and the fields
   * through which Argo's plugin gives commands. Status writes of the workflow's own
   * (replica counts, conditions) change neither, and are not echoed back to it.
   */
  private readonly lastSeen = new Map<string, string>();

  private onRollout(type: string, ro: KubeObject): void {
    const ref = { namespace: ro.metadata.namespace!, name: ro.metadata.name };
    const workflowId = rolloutWorkflowId(ref);
    const st = ro.status ?? {};
    const key = JSON.stringify([ro.metadata.uid, ro.metadata.generation, st.abort ?? false, st.promoteFull ?? false, (st.pauseConditions ?? []).length]);
    if (type === 'MODIFIED' && this.lastSeen.get(workflowId) === key) return;
    if (type === 'DELETED') {
      this.lastSeen.delete(workflowId);
      this.lastInterim.delete(workflowId);
    } else this.lastSeen.set(workflowId, key);
    const nudge = { reason: `rollout ${type.toLowerCase()}`, generation: ro.metadata.generation };
    const { client, taskQueue, useSearchAttributes } = this.opts;
    if (type === 'DELETED') {
      this.nudger.nudge(workflowId, () => client.workflow.getHandle(workflowId).signal(nudgeSignal, nudge));
      return;
    }
    this.nudger.nudge(workflowId, async () => {
      await client.workflow.signalWithStart(rolloutWorkflow, {
        workflowId,
        taskQueue,
        args: [{ ...ref, useSearchAttributes }],
        signal: nudgeSignal,
        signalArgs: [nudge],
        staticSummary: `Rollout ${ref.namespace}/${ref.name}`,
        ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['Rollout'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
      });
    });
  }

  private onReplicaSet(type: string, rs: KubeObject): void {
    const owner = rs.metadata.ownerReferences?.find((o) => o.kind === 'Rollout' && o.controller);
    if (!owner) return;
    const workflowId = rolloutWorkflowId({ namespace: rs.metadata.namespace!, name: owner.name });
    // Each pod that becomes ready updates its ReplicaSet's status; a step completes when
    // the rollout's ReplicaSets have all settled, so the event that settles the last of
    // them (or one appearing or going) wakes the workflow at once. The others only
    // refresh the shown counts, so they wait a moment and share one signal: under load
    // that is most of the workflow's passes saved.
    // The first interim refresh after a decision also brings the task that writes its deferred
    // status (workflows/rollout-run.ts), so it comes after a second; later ones only refresh
    // counts, and come at most every INTERIM_NUDGE_SPACING_MS until the next decision.
    const owned = this.opts.cache?.replicaSets.ownedBy(owner.uid);
    const interim = type === 'MODIFIED' && !allSettled(rs, owned);
    const signal = () => this.opts.client.workflow.getHandle(workflowId).signal(nudgeSignal, { reason: `replicaset ${rs.metadata.name} changed` });
    if (!interim) {
      this.lastInterim.delete(workflowId);
      this.nudger.nudge(workflowId, signal);
      return;
    }
    const deferMs = interimNudgeDelay(this.lastInterim.get(workflowId), Date.now());
    this.nudger.nudge(
      workflowId,
      () => {
        this.lastInterim.set(workflowId, Date.now());
        return signal();
      },
      deferMs,
    );
  }

  /** When each rollout's last interim nudge went out, since its last immediate one. */
  private readonly lastInterim = new Map<string, number>();
}

const INTERIM_NUDGE_DELAY_MS = 1000;
const INTERIM_NUDGE_SPACING_MS = 3000;

/**
 * How long an interim nudge waits: a second after the first ReplicaSet event that settles
 * nothing, and at least INTERIM_NUDGE_SPACING_MS after the previous interim nudge (`lastAt`)
 * sent since the rollout's last immediate nudge.
 */
export function interimNudgeDelay(lastAt: number | undefined, now: number): number {
  return lastAt === undefined ? INTERIM_NUDGE_DELAY_MS : Math.max(INTERIM_NUDGE_DELAY_MS, lastAt + INTERIM_NUDGE_SPACING_MS - now);
}

/**
 * Whether the ReplicaSets of `rs`'s rollout have all settled: `owned` are they, from the
 * watcher's copy, which holds `rs` already (in its newest version, which may be newer than
 * the event's); without a copy only `rs` is looked at.
 */
export function allSettled(rs: KubeObject, owned: KubeObject[] | undefined): boolean {
  return owned?.length ? owned.every(settled) : settled(rs);
}

/** Whether the ReplicaSet controller has caught up with the spec and every pod is available. */
export function settled(rs: KubeObject): boolean {
  const want = rs.spec?.replicas ?? 1;
  const st = rs.status ?? {};
  return (
    (st.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0) &&
    (st.replicas ?? 0) === want &&
    (st.availableReplicas ?? 0) === want &&
    (st.readyReplicas ?? 0) === want
  );
}
