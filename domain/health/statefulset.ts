// StatefulSet health, as Argo CD borrows it from `kubectl rollout status`.
import { type HealthStatus, type KubeObject, fieldAt, health, intAt, stringAt, unsupportedVersion } from './types';

export function statefulSetHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  const generation = intAt(obj, 'metadata', 'generation') ?? 0;
  const observedGeneration = intAt(obj, 'status', 'observedGeneration') ?? 0;
  if (observedGeneration === 0 || generation > observedGeneration) {
    return health('Progressing', 'Waiting for statefulset spec update to be observed...');
  }
  const desired = intAt(obj, 'spec', 'replicas');
  const ready = intAt(obj, 'status', 'readyReplicas') ?? 0;
  const updated = intAt(obj, 'status', 'updatedReplicas') ?? 0;
  if (desired !== undefined && ready < desired) {
    return health('Progressing', `Waiting for ${desired - ready} pods to be ready...`);
  }
  const strategy = stringAt(obj, 'spec', 'updateStrategy', 'type') ?? '';
  if (strategy === 'RollingUpdate' && fieldAt(obj, ['spec', 'updateStrategy', 'rollingUpdate']) !== undefined) {
    const partition = intAt(obj, 'spec', 'updateStrategy', 'rollingUpdate', 'partition');
    if (desired !== undefined && partition !== undefined && updated < desired - partition) {
      return health('Progressing', `Waiting for partitioned roll out to finish: ${updated} out of ${desired - partition} new pods have been updated...`);
    }
    return health('Healthy', `partitioned roll out complete: ${updated} new pods have been updated...`);
  }
  if (strategy === 'OnDelete') return health('Healthy', `statefulset has ${ready} ready pods`);
  const updateRevision = stringAt(obj, 'status', 'updateRevision') ?? '';
  const currentRevision = stringAt(obj, 'status', 'currentRevision') ?? '';
  if (updateRevision !== currentRevision) {
    return health('Progressing', `waiting for statefulset rolling update to complete ${updated} pods at revision ${updateRevision}...`);
  }
  const current = intAt(obj, 'status', 'currentReplicas') ?? 0;
  return health('Healthy', `statefulset rolling update complete ${current} pods at revision ${currentRevision}...`);
}
