// Ingress health: Healthy once the controller has published an address, whatever the Ingress class.
import { type HealthStatus, type KubeObject, fieldAt, health } from './types';

export function ingressHealth(obj: KubeObject): HealthStatus {
  // Any API version; a malformed list counts as no address, as in Argo CD.
  const ingress = fieldAt(obj, ['status', 'loadBalancer', 'ingress']);
  return health(Array.isArray(ingress) && ingress.length > 0 ? 'Healthy' : 'Progressing');
}
