// Job health from its conditions. As in Argo CD, a Suspended condition of any status ends
// the wait: a Job resumed after a suspension reads Healthy while it still runs.
import { type HealthStatus, type KubeObject, conditionsAt, health, unsupportedVersion } from './types';

export function jobHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  let failed = false;
  let complete = false;
  let suspended = false;
  let failMessage = '';
  let message = '';
  for (const c of conditionsAt(obj, 'status', 'conditions')) {
    switch (c.type) {
      case 'Failed':
        failed = true;
        complete = true;
        failMessage = c.message;
        break;
      case 'Complete':
        complete = true;
        message = c.message;
        break;
      case 'Suspended':
        complete = true;
        message = c.message;
        if (c.status === 'True') suspended = true;
        break;
    }
  }
  if (!complete) return health('Progressing', message);
  if (failed) return health('Degraded', failMessage);
  if (suspended) return health('Suspended', message);
  return health('Healthy', message);
}
