// PersistentVolumeClaim health follows its phase.
import { type HealthStatus, type KubeObject, health, stringAt, unsupportedVersion } from './types';

export function persistentVolumeClaimHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  switch (stringAt(obj, 'status', 'phase')) {
    case 'Bound':
      return health('Healthy');
    case 'Pending':
      return health('Progressing');
    case 'Lost':
      return health('Degraded');
    default:
      return health('Unknown');
  }
}
