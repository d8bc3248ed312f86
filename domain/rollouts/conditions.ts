// Rollout conditions as Argo Rollouts names them. A condition keeps its
// lastTransitionTime while its status stays the same, so `kubectl describe` shows
// when something actually changed.
import type { RolloutCondition, RolloutPhase } from './types';

export interface ConditionInput {
  type: RolloutCondition['type'];
  status: RolloutCondition['status'];
  reason: string;
  message: string;
}

export function mergeConditions(previous: RolloutCondition[] | undefined, wanted: ConditionInput[], nowIso: string): RolloutCondition[] {
  const prev = new Map((previous ?? []).map((c) => [c.type, c]));
  return wanted.map((c) => {
    const old = prev.get(c.type);
    const unchanged = old && old.status === c.status;
    const same = unchanged && old.reason === c.reason && old.message === c.message;
    return {
      ...c,
      lastTransitionTime: unchanged ? old.lastTransitionTime : nowIso,
      lastUpdateTime: same ? old.lastUpdateTime : nowIso,
    };
  });
}

export interface PhaseFacts {
  invalidSpec?: string;
  aborted: boolean;
  abortMessage?: string;
  pausedByUser: boolean;
  pauseReason?: string;
  completed: boolean;
  available: boolean;
  progressMessage: string;
}

export function phaseOf(f: PhaseFacts): { phase: RolloutPhase; message: string } {
  if (f.invalidSpec) return { phase: 'Degraded', message: `InvalidSpec: ${f.invalidSpec}` };
  if (f.aborted) return { phase: 'Degraded', message: `RolloutAborted: ${f.abortMessage ?? 'Rollout aborted'}` };
  if (f.pausedByUser) return { phase: 'Paused', message: 'manually paused' };
  if (f.pauseReason) return { phase: 'Paused', message: f.pauseReason };
  if (f.completed) return { phase: 'Healthy', message: '' };
  return { phase: 'Progressing', message: f.progressMessage };
}

export function conditionsFor(f: PhaseFacts): ConditionInput[] {
  const paused = f.pausedByUser || !!f.pauseReason;
  const list: ConditionInput[] = [];
  if (f.invalidSpec) list.push({ type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message: f.invalidSpec });
  list.push(
    f.available
      ? { type: 'Available', status: 'True', reason: 'AvailableReason', message: 'Rollout has minimum availability' }
      : { type: 'Available', status: 'False', reason: 'AvailableReason', message: 'Rollout does not have minimum availability' },
  );
  if (f.aborted) list.push({ type: 'Progressing', status: 'False', reason: 'RolloutAborted', message: f.abortMessage ?? 'Rollout aborted' });
  else if (paused) list.push({ type: 'Progressing', status: 'Unknown', reason: 'RolloutPaused', message: 'Rollout is paused' });
  else if (f.completed) list.push({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'Rollout has successfully progressed' });
  else list.push({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: f.progressMessage });
  list.push(
    paused
      ? { type: 'Paused', status: 'True', reason: f.pausedByUser ? 'PausedByUser' : (f.pauseReason ?? 'RolloutPaused'), message: 'Rollout is paused' }
      : { type: 'Paused', status: 'False', reason: 'RolloutResumed', message: 'Rollout is resumed' },
  );
  list.push(
    f.completed
      ? { type: 'Completed', status: 'True', reason: 'RolloutCompleted', message: 'Rollout completed update to revision' }
      : { type: 'Completed', status: 'False', reason: 'RolloutCompleted', message: 'Rollout not completed' },
  );
  list.push(
    f.completed && f.available
      ? { type: 'Healthy', status: 'True', reason: 'RolloutHealthy', message: 'Rollout is healthy' }
      : { type: 'Healthy', status: 'False', reason: 'RolloutHealthy', message: 'Rollout is not healthy' },
  );
  return list;
}
