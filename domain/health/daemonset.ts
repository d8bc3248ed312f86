// DaemonSet health, as Argo CD borrows it from `kubectl rollout status`.
import { type HealthStatus, type KubeObject, health, intAt, quoted, stringAt, unsupportedVersion } from './types';

export function daemonSetHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  const generation = intAt(obj, 'metadata', 'generation') ?? 0;
  const observedGeneration = intAt(obj, 'status', 'observedGeneration') ?? 0;
  if (generation > observedGeneration) {
    return health('Progressing', 'Waiting for rollout to finish: observed daemon set generation less than desired generation');
  }
  const desired = intAt(obj, 'status', 'desiredNumberScheduled') ?? 0;
  const updated = intAt(obj, 'status', 'updatedNumberScheduled') ?? 0;
  const available = intAt(obj, 'status', 'numberAvailable') ?? 0;
  // OnDelete never replaces pods by itself, so waiting for them would never end.
  if (stringAt(obj, 'spec', 'updateStrategy', 'type') === 'OnDelete') {
    return health('Healthy', `daemon set ${updated} out of ${desired} new pods have been updated`);
  }
  const name = quoted(obj.metadata?.name);
  if (updated < desired) {
    return health('Progressing', `Waiting for daemon set ${name} rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
  }
  if (available < desired) {
    return health('Progressing', `Waiting for daemon set ${name} rollout to finish: ${available} of ${desired} updated pods are available...`);
  }
  return health('Healthy');
}
