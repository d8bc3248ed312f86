// Argo Workflows' Workflow health follows its phase.
import { type HealthStatus, type KubeObject, fieldAt, health } from './types';

export function argoWorkflowHealth(obj: KubeObject): HealthStatus {
  const text = (path: string[]) => {
    const value = fieldAt(obj, path);
    return typeof value === 'string' ? value : '';
  };
  const message = text(['status', 'message']);
  switch (text(['status', 'phase'])) {
    case '':
    case 'Pending':
    case 'Running':
      return health('Progressing', message);
    case 'Succeeded':
      return health('Healthy', message);
    case 'Failed':
    case 'Error':
      return health('Degraded', message);
    default:
      return health('Unknown', message);
  }
}
