// Argo Rollouts' Rollout health, as Argo CD's built-in Lua check for argoproj.io/Rollout
// assesses it: the controller's own status.phase once it has observed the current spec,
// and for controllers older than v1.0 (no phase) the conditions, pause and replica counts.
import { WORKLOAD_GENERATION_ANNOTATION } from '../argo/names';
import { type HealthStatus, type HealthStatusCode, type KubeObject, conditionsAt, fieldAt, health } from './types';

const CODES: readonly HealthStatusCode[] = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];

// Lua's tonumber: numbers, and strings that read as numbers; anything else is nil.
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function specObserved(obj: KubeObject): boolean {
  if (fieldAt(obj, ['status']) === undefined) return false;
  const observed = toNumber(fieldAt(obj, ['status', 'observedGeneration']));
  const generation = numberOr(obj.metadata?.generation, 0);
  // Rollouts before v0.10 wrote a hash here; those count as observed.
  if (observed === undefined || observed > generation) return true;
  return observed === generation;
}

function workloadObserved(obj: KubeObject): boolean {
  if (fieldAt(obj, ['spec', 'workloadRef']) === undefined || obj.metadata?.annotations === undefined) return true;
  return toNumber(obj.metadata.annotations[WORKLOAD_GENERATION_ANNOTATION]) === toNumber(fieldAt(obj, ['status', 'workloadObservedGeneration']));
}

export function rolloutHealth(obj: KubeObject): HealthStatus {
  if (!specObserved(obj) || !workloadObserved(obj)) return health('Progressing', 'Waiting for rollout spec update to be observed');

  const status = (path: string[]) => fieldAt(obj, ['status', ...path]);
  const phase = status(['phase']);
  if (phase !== undefined) {
    const code = phase === 'Paused' ? 'Suspended' : phase;
    const message = typeof status(['message']) === 'string' ? (status(['message']) as string) : undefined;
    if (!(CODES as readonly unknown[]).includes(code)) return health('Unknown', `status.phase ${JSON.stringify(phase)} is not a health status`);
    return health(code as HealthStatusCode, message);
  }

  // Rollouts before v1.0: no phase, so judge as Argo CD did then.
  for (const c of conditionsAt(obj, 'status', 'conditions')) {
    if (c.type === 'InvalidSpec') return health('Degraded', c.message);
    if (c.type === 'Progressing' && (c.reason === 'RolloutAborted' || c.reason === 'ProgressDeadlineExceeded')) return health('Degraded', c.message);
  }
  const pauseConditions = status(['pauseConditions']);
  if ((Array.isArray(pauseConditions) && pauseConditions.length > 0) || fieldAt(obj, ['spec', 'paused']) === true) {
    return health('Suspended', 'Rollout is paused');
  }
  const currentPodHash = status(['currentPodHash']);
  if (currentPodHash === undefined) return health('Progressing', 'Waiting for rollout to finish: status has not been reconciled.');

  const desired = numberOr(fieldAt(obj, ['spec', 'replicas']), 1);
  const replicas = numberOr(status(['replicas']), 0);
  const updated = numberOr(status(['updatedReplicas']), 0);
  const available = numberOr(status(['availableReplicas']), 0);
  if (updated < desired) return health('Progressing', 'Waiting for roll out to finish: More replicas need to be updated');
  if (available < updated) return health('Progressing', 'Waiting for roll out to finish: updated replicas are still becoming available');

  // v0.8 moved stableRS from status.canary to status; a canary block without it reads as unset.
  const stableRS = status(['stableRS']) !== undefined ? status(['stableRS']) : status(['canary']) !== undefined ? status(['canary', 'stableRS']) : '';
  if (fieldAt(obj, ['spec', 'strategy', 'blueGreen']) !== undefined) {
    if (status(['blueGreen', 'activeSelector']) !== currentPodHash) return health('Progressing', 'active service cutover pending');
    if (stableRS !== '' && stableRS !== currentPodHash) return health('Progressing', 'waiting for analysis to complete');
  } else if (fieldAt(obj, ['spec', 'strategy', 'canary']) !== undefined) {
    if (replicas > updated) return health('Progressing', 'Waiting for roll out to finish: old replicas are pending termination');
    if (stableRS === '' || stableRS !== currentPodHash) return health('Progressing', 'Waiting for rollout to finish steps');
  }
  return health('Healthy');
}
