// An Argo CD Application's health is the health it reports for itself. Stock Argo CD dropped
// this check in 1.8 and documents it as a resource customization for app-of-apps with sync
// waves; Sluice has it built in so a parent app's waves wait for their children.
import { type HealthStatus, type HealthStatusCode, type KubeObject, fieldAt, health } from './types';

const CODES: readonly HealthStatusCode[] = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];

export function applicationHealth(obj: KubeObject): HealthStatus {
  const reported = fieldAt(obj, ['status', 'health']);
  if (reported === undefined) return health('Progressing');
  const status = fieldAt(reported, ['status']);
  const message = fieldAt(reported, ['message']);
  if (!(CODES as readonly unknown[]).includes(status))
    return health('Unknown', `status.health.status ${JSON.stringify(status ?? null)} is not a health status`);
  return health(status as HealthStatusCode, typeof message === 'string' ? message : undefined);
}
