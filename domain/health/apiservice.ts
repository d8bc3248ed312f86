// APIService health: its Available condition.
import { type HealthStatus, type KubeObject, conditionsAt, health, unsupportedVersion } from './types';

export function apiServiceHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1', 'v1beta1']);
  if (unsupported) return unsupported;
  const available = conditionsAt(obj, 'status', 'conditions').find((c) => c.type === 'Available');
  if (!available) return health('Progressing', 'Waiting to be processed');
  return health(available.status === 'True' ? 'Healthy' : 'Progressing', `${available.reason}: ${available.message}`);
}
