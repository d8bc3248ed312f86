// Service health: only a LoadBalancer waits, for its address.
import { type HealthStatus, type KubeObject, health, listAt, stringAt, unsupportedVersion } from './types';

export function serviceHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  if (stringAt(obj, 'spec', 'type') === 'LoadBalancer' && listAt(obj, 'status', 'loadBalancer', 'ingress').length === 0) {
    return health('Progressing');
  }
  return health('Healthy');
}
