// Which replica signals which workflow. Every replica watches every object (its caches feed
// its activities), but only one sends the signal for a change, so N replicas do not put N
// times the load on Temporal. Replicas find each other through one Lease each in Sluice's
// namespace, renewed every few seconds, and share the workflow IDs out by rendezvous
// hashing: the live replica with the highest hash of (replica, workflow ID) owns it, so a
// replica coming or going moves only its own share. A replica keeps the latest nudge of
// each workflow it does not own for a while; when it gains workflows (an owner's Lease
// expired after a SIGKILL, or was deleted on a clean stop), it sends those, so a change
// seen while the old owner was already dead is not lost. Two replicas that briefly
// disagree on who is alive at worst both signal, which is harmless (Temporal
// de-duplicates the start; a nudge is "look again").
import * as os from 'node:os';
import { isNotFound, type KubeClient, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import type { Log } from './logger';

export const leaseResource: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true };

const RENEW_MS = 3_000;
const LEASE_SECONDS = 10;
const TASK_QUEUE_LABEL = 'sluice.dev/task-queue-hash';
/** How long a nudge for another replica's workflow is kept: long enough for its Lease to expire and be noticed. */
export const PARKED_MS = (LEASE_SECONDS + (2 * RENEW_MS) / 1000) * 1000;

/** Who signals which workflow; `owns` is true for everything until the membership is known. */
export interface Shards {
  owns(key: string): boolean;
  /** Called after the live replicas changed; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** Everything is ours: one replica, or no Lease could be written. */
export const unsharded: Shards = { owns: () => true, onChange: () => () => undefined };

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The replica among `live` that owns `key` (rendezvous hashing); pure. */
export function ownerOf(key: string, live: string[]): string | undefined {
  let best: string | undefined;
  let bestHash = -1;
  for (const id of live) {
    const h = fnv1a(`${id}|${key}`);
    if (h > bestHash || (h === bestHash && best !== undefined && id < best)) {
      best = id;
      bestHash = h;
    }
  }
  return best;
}

export class ReplicaShards implements Shards {
  /**
   * The pod's name (HOSTNAME) unless SLUICE_REPLICA_ID says otherwise: a container the
   * kubelet restarts in the same pod takes up its own Lease again at once, rather than
   * waiting for it to expire. Processes sharing one id (several on one machine) each
   * own every workflow, as without sharding.
   */
  readonly id: string;
  private live: string[];
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly leaseName: string;
  private readonly queueHash: string;
  private disabled = false;

  constructor(private readonly opts: { kube: KubeClient; namespace: string; taskQueue: string; log: Log; replicaId?: string }) {
    this.id = opts.replicaId || os.hostname();
    this.live = [this.id];
    this.queueHash = fnv1a(opts.taskQueue).toString(16);
    this.leaseName = `sluice-${this.queueHash}-${fnv1a(this.id).toString(16)}`;
  }

  owns(key: string): boolean {
    return this.disabled || ownerOf(key, this.live) === this.id;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get replicas(): number {
    return this.live.length;
  }

  /** Writes this replica's Lease and reads the others' before any watcher starts. */
  async start(): Promise<void> {
    try {
      await this.renew();
    } catch (err) {
      // Without Leases every replica signals every change, as before sharding: more load, nothing lost.
      this.disabled = true;
      this.opts.log('replica leases unavailable; this replica signals every change', {
        lease: `${this.opts.namespace}/${this.leaseName}`,
        error: String(err),
      });
      return;
    }
    const tick = () => {
      this.timer = setTimeout(() => {
        this.renew()
          .catch((err) => this.opts.log('renewing the replica lease failed', { error: String(err) }))
          .finally(() => this.timer && tick());
      }, RENEW_MS);
      this.timer.unref();
    };
    tick();
  }

  /** Deletes the Lease, so the others take this replica's share at their next look instead of after it expires. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    if (!this.disabled) await this.opts.kube.delete(leaseResource, this.opts.namespace, this.leaseName).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    const { kube, namespace } = this.opts;
    const now = new Date();
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.leaseName, namespace, labels: { 'app.kubernetes.io/part-of': 'sluice', [TASK_QUEUE_LABEL]: this.queueHash } },
      spec: { holderIdentity: this.id, leaseDurationSeconds: LEASE_SECONDS, renewTime: now.toISOString().replace('Z', '000Z') },
    };
    try {
      await kube.patch(leaseResource, namespace, this.leaseName, { spec: lease.spec });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await kube.create(leaseResource, namespace, lease);
    }
    const { items } = await kube.list<KubeObject & { spec?: { renewTime?: string; leaseDurationSeconds?: number; holderIdentity?: string } }>(
      leaseResource,
      namespace,
      {
        labelSelector: `${TASK_QUEUE_LABEL}=${this.queueHash}`,
      },
    );
    const expiresAt = (l: (typeof items)[number]) => Date.parse(l.spec?.renewTime ?? '') + (l.spec?.leaseDurationSeconds ?? LEASE_SECONDS) * 1000;
    // A replica gone for good (its pod deleted after a SIGKILL) leaves its Lease behind; the others clear it up.
    for (const l of items) if (expiresAt(l) < Date.now() - 60_000) await kube.delete(leaseResource, namespace, l.metadata.name).catch(() => undefined);
    const live = items
      .filter((l) => l.metadata.name === this.leaseName || expiresAt(l) > Date.now())
      .map((l) => l.spec?.holderIdentity ?? '')
      .filter(Boolean)
      .sort();
    if (!live.includes(this.id)) live.push(this.id);
    live.sort();
    if (live.join(',') === this.live.join(',')) return;
    this.opts.log('replicas changed', { replicas: live.length, self: this.id });
    this.live = live;
    for (const listener of this.listeners) listener();
  }
}
