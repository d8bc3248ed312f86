// The runaway guard (Argo's controllers have none): a rollout whose writes are undone by
// something else (an HPA, another controller, a mutating webhook) would write the same
// field for ever. The workflow keeps a short window of its own writes; when one field is
// written back to a value it already wrote more than FLAP_LIMIT times in FLAP_WINDOW_MS
// while the rollout did not move (same generation, revision, step, abort and pause
// state), it stops acting and says which field flaps. A steady scale-up never writes a
// value twice, so it is not a loop; any progress starts a fresh count.
import type { RolloutAction } from './actions';
import { mergeConditions } from './conditions';
import type { RolloutProgress } from './progress';
import type { RolloutSnapshot, RolloutStatus } from './types';

/** More rewrites of one field than this, within the window, is a loop. */
export const FLAP_LIMIT = 10;
export const FLAP_WINDOW_MS = 60_000;
/** The most writes kept (a bound on the workflow's state, carried across continueAsNew). */
export const MAX_WRITES_KEPT = 200;
export const RECONCILE_LOOP_REASON = 'ReconcileLoop';

/** One write the workflow made: which field of which object, to what, from what it saw. */
export interface WriteRecord {
  object: string;
  field: string;
  value: string;
  /** The value observed before the write, when known. */
  previous?: string;
  atMs: number;
  /** Where the rollout stood (progressKey): writes under another key do not count together. */
  progress: string;
}

export interface Flap {
  object: string;
  field: string;
  /** The values the field went through, in the order first seen. */
  values: string[];
  /** Writes back to a value already written, within the window. */
  rewrites: number;
  message: string;
}

/** Where the rollout stands: a change of any of these is progress. */
export function progressKey(generation: number, p: RolloutProgress): string {
  return [generation, p.currentHash ?? '', p.stableHash ?? '', p.stepIndex, p.aborted, p.promoteFull, p.pauseConditions.length].join('|');
}

/** The fields the actions write, with the values the observation had for them. */
export function writesOf(snap: RolloutSnapshot, actions: RolloutAction[], atMs: number, progress: string): WriteRecord[] {
  const rs = (name: string) => snap.replicaSets.find((r) => r.name === name);
  const w = (object: string, field: string, value: unknown, previous: unknown): WriteRecord => ({
    object,
    field,
    value: String(value),
    ...(previous === undefined ? {} : { previous: String(previous) }),
    atMs,
    progress,
  });
  return actions.flatMap((a): WriteRecord[] => [write(a)].filter((x): x is WriteRecord => !!x));
  function write(a: RolloutAction): WriteRecord | undefined {
    switch (a.kind) {
      case 'createReplicaSet':
        return w(`ReplicaSet ${snap.name}-${a.hash}`, 'existence', 'created', rs(`${snap.name}-${a.hash}`) ? 'present' : 'absent');
      case 'deleteReplicaSet':
        return w(`ReplicaSet ${a.name}`, 'existence', 'deleted', rs(a.name) ? 'present' : 'absent');
      case 'scaleReplicaSet':
        return w(`ReplicaSet ${a.name}`, 'spec.replicas', a.replicas, rs(a.name)?.specReplicas);
      case 'setScaleDownDeadline':
        return w(`ReplicaSet ${a.name}`, 'scale-down-deadline', a.deadline ?? 'none', rs(a.name)?.scaleDownDeadline ?? 'none');
      case 'setRevision':
        return w(`ReplicaSet ${a.name}`, 'revision', a.revision, rs(a.name)?.revision);
      case 'setPodMetadata':
        return w(`ReplicaSet ${a.name}`, 'ephemeral-metadata', a.metadata ? JSON.stringify(a.metadata) : 'none', rs(a.name)?.ephemeralMetadata ?? 'none');
      case 'setServiceSelector': {
        const svc = snap.services.find((s) => s.name === a.service);
        return w(`Service ${a.service}`, 'spec.selector', a.hash ?? 'none', svc ? (svc.selector['rollouts-pod-template-hash'] ?? 'none') : undefined);
      }
      case 'setTrafficWeight':
        return w('traffic router', 'canary weight', a.weight, undefined);
      case 'restartPods':
        // Deleting pods a batch at a time repeats by design, and writes no field.
        return undefined;
    }
  }
}

/** The window after adding `added`: older writes, and the oldest beyond the bound, are dropped. */
export function rememberWrites(kept: readonly WriteRecord[], added: readonly WriteRecord[], nowMs: number): WriteRecord[] {
  return [...kept, ...added].filter((w) => w.atMs > nowMs - FLAP_WINDOW_MS).slice(-MAX_WRITES_KEPT);
}

/** The field that flaps, if any: the one rewritten most, when that is more than FLAP_LIMIT times. */
export function detectFlap(writes: readonly WriteRecord[], nowMs: number): Flap | undefined {
  const latest = writes[writes.length - 1];
  if (!latest) return undefined;
  const recent = writes.filter((w) => w.atMs > nowMs - FLAP_WINDOW_MS && w.progress === latest.progress);
  const fields = new Map<string, { object: string; field: string; written: Set<string>; values: string[]; rewrites: number }>();
  for (const w of recent) {
    const key = `${w.object}\u0000${w.field}`;
    const f = fields.get(key) ?? { object: w.object, field: w.field, written: new Set<string>(), values: [], rewrites: 0 };
    fields.set(key, f);
    // Rewriting a value this workflow already wrote means something undid it (a write is
    // only made when the observation differs) or the decision itself swings back.
    if (f.written.has(w.value)) f.rewrites++;
    f.written.add(w.value);
    for (const v of [w.previous, w.value]) if (v !== undefined && !f.values.includes(v)) f.values.push(v);
  }
  let worst: Flap | undefined;
  for (const f of fields.values()) {
    if (f.rewrites <= FLAP_LIMIT || (worst && worst.rewrites >= f.rewrites)) continue;
    const message = `${f.object} ${f.field} alternated ${f.values.join('↔')} ${f.rewrites} times in ${FLAP_WINDOW_MS / 1000} s`;
    worst = { object: f.object, field: f.field, values: f.values, rewrites: f.rewrites, message };
  }
  return worst;
}

/** The status of a rollout the guard stopped: Progressing False, reason ReconcileLoop, naming the field. */
export function haltedStatus(status: RolloutStatus, flap: Flap, nowIso: string): RolloutStatus {
  const old = status.conditions?.find((c) => c.type === 'Progressing');
  const [cond] = mergeConditions(old ? [old] : [], [{ type: 'Progressing', status: 'False', reason: RECONCILE_LOOP_REASON, message: flap.message }], nowIso);
  const conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'Progressing'), cond];
  return {
    ...status,
    phase: 'Degraded',
    message: `${RECONCILE_LOOP_REASON}: ${flap.message}; stopped acting until the spec changes or a retry/abort`,
    conditions,
  };
}
