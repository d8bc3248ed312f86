// Pod health. A Pod that restarts forever (restartPolicy Always) is Healthy when Ready and
// Degraded when a container is stuck (CrashLoopBackOff, ImagePullBackOff, Err…). A Pod meant
// to finish (Never, OnFailure) stays Progressing until it succeeds: such Pods are usually
// hooks, and calling them Degraded on a transient pull error would fail the hook early.
import { IGNORE_RESTART_POLICY_ANNOTATION } from '../argo/names';
import { isHook } from '../sync/resources';
import { type HealthStatus, type KubeObject, conditionsAt, fieldAt, health, intAt, listAt, stringAt, unsupportedVersion } from './types';

function isStuckWaiting(reason: string): boolean {
  return reason.startsWith('Err') || reason.endsWith('Error') || reason.endsWith('BackOff');
}

function failureMessage(container: unknown): string {
  const terminated = fieldAt(container, ['state', 'terminated']);
  if (terminated === undefined) return '';
  const message = stringAt(terminated, 'message') ?? '';
  if (message) return message;
  if (stringAt(terminated, 'reason') === 'OOMKilled') return 'OOMKilled';
  const exitCode = intAt(terminated, 'exitCode') ?? 0;
  return exitCode !== 0 ? `container ${JSON.stringify(stringAt(container, 'name') ?? '')} failed with exit code ${exitCode}` : '';
}

export function podHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1']);
  if (unsupported) return unsupported;
  const annotations = obj.metadata?.annotations ?? {};
  const hook = isHook({ apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', metadata: { name: '', annotations } }, { strict: false });
  const restartPolicy = stringAt(obj, 'spec', 'restartPolicy') ?? '';
  const longRunning = restartPolicy === 'Always' || (annotations[IGNORE_RESTART_POLICY_ANNOTATION] === 'true' && !hook);
  const containers = listAt(obj, 'status', 'containerStatuses');
  const podMessage = stringAt(obj, 'status', 'message') ?? '';

  if (longRunning) {
    const stuck = containers.filter((c) => isStuckWaiting(stringAt(c, 'state', 'waiting', 'reason') ?? ''));
    if (stuck.length > 0) return health('Degraded', stuck.map((c) => stringAt(c, 'state', 'waiting', 'message') ?? '').join(', '));
  }

  switch (stringAt(obj, 'status', 'phase')) {
    case 'Pending':
      return health('Progressing', podMessage);
    case 'Succeeded':
      return health('Healthy', podMessage);
    case 'Failed': {
      if (podMessage) return health('Degraded', podMessage);
      for (const c of [...listAt(obj, 'status', 'initContainerStatuses'), ...containers]) {
        const message = failureMessage(c);
        if (message) return health('Degraded', message);
      }
      return health('Degraded');
    }
    case 'Running':
      if (longRunning) {
        if (conditionsAt(obj, 'status', 'conditions').some((c) => c.type === 'Ready' && c.status === 'True')) return health('Healthy', podMessage);
        // Not ready and a container has already died once: it is failing, not starting.
        if (containers.some((c) => fieldAt(c, ['lastState', 'terminated']) !== undefined)) return health('Degraded', podMessage);
        return health('Progressing', podMessage);
      }
      if (restartPolicy === 'OnFailure' || restartPolicy === 'Never') return health('Progressing', podMessage);
      break;
  }
  return health('Unknown', podMessage);
}
