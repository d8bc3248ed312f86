// Which part of a Rollout's status is a decision and which only reports counts. A decision
// (phase, step, pause, abort, weights, selectors, stable and current revision) must be in
// the workflow's history before anyone can see it, so that a command's validator sees the
// same after any worker restart; the replica counts, and what follows from them alone (the
// Available and Healthy conditions' status, a Progressing message), are observations that
// the next pass refreshes anyway.
import type { RolloutStatus } from './types';

/** The status without its counts: two statuses with the same key differ only in what was counted. */
export function statusDecisionKey(status: RolloutStatus): string {
  const counted = new Set(['Available', 'Healthy']);
  return JSON.stringify({
    ...status,
    replicas: undefined,
    updatedReplicas: undefined,
    readyReplicas: undefined,
    availableReplicas: undefined,
    message: status.phase === 'Progressing' ? undefined : status.message,
    conditions: status.conditions?.map((c) => [c.type, counted.has(c.type) ? undefined : c.status, c.reason]),
  });
}

/** Whether `next` differs from `written` only in counts (and so decides nothing `written` did not). */
export function onlyCountsChanged(written: RolloutStatus | undefined, next: RolloutStatus): boolean {
  return !!written && statusDecisionKey(written) === statusDecisionKey(next);
}
