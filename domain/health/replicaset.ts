// ReplicaSet health: observed, not failing to create pods, and all replicas available.
import { type HealthStatus, type KubeObject, conditionsAt, health, intAt, unsupportedVersion } from './types';

export function replicaSetHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  const generation = intAt(obj, 'metadata', 'generation') ?? 0;
  const observedGeneration = intAt(obj, 'status', 'observedGeneration') ?? 0;
  if (generation > observedGeneration) {
    return health('Progressing', 'Waiting for rollout to finish: observed replica set generation less than desired generation');
  }
  const failure = conditionsAt(obj, 'status', 'conditions').find((c) => c.type === 'ReplicaFailure');
  if (failure && failure.status === 'True') return health('Degraded', failure.message);
  const desired = intAt(obj, 'spec', 'replicas');
  const available = intAt(obj, 'status', 'availableReplicas') ?? 0;
  if (desired !== undefined && available < desired) {
    return health('Progressing', `Waiting for rollout to finish: ${available} out of ${desired} new replicas are available...`);
  }
  return health('Healthy');
}
