// Deployment health, as Argo CD borrows it from `kubectl rollout status`.
import { type HealthStatus, type KubeObject, conditionsAt, health, intAt, boolAt, quoted, unsupportedVersion } from './types';

export function deploymentHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  if (boolAt(obj, 'spec', 'paused')) return health('Suspended', 'Deployment is paused');

  const generation = intAt(obj, 'metadata', 'generation') ?? 0;
  const observedGeneration = intAt(obj, 'status', 'observedGeneration') ?? 0;
  if (generation > observedGeneration) {
    return health('Progressing', 'Waiting for rollout to finish: observed deployment generation less than desired generation');
  }
  const progressing = conditionsAt(obj, 'status', 'conditions').find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return health('Degraded', `Deployment ${quoted(obj.metadata?.name)} exceeded its progress deadline`);
  }
  const desired = intAt(obj, 'spec', 'replicas');
  const replicas = intAt(obj, 'status', 'replicas') ?? 0;
  const updated = intAt(obj, 'status', 'updatedReplicas') ?? 0;
  const available = intAt(obj, 'status', 'availableReplicas') ?? 0;
  if (desired !== undefined && updated < desired) {
    return health('Progressing', `Waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  }
  if (replicas > updated) {
    return health('Progressing', `Waiting for rollout to finish: ${replicas - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return health('Progressing', `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  }
  return health('Healthy');
}
