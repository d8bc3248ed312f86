// HorizontalPodAutoscaler health from its conditions (autoscaling/v1 keeps them in an annotation).
import { type Condition, type HealthStatus, type KubeObject, FieldTypeError, conditionsAt, health, unsupportedVersion } from './types';

const WAITING = health('Progressing', 'Waiting to Autoscale');
const DEGRADED: readonly { type: string; reason: string }[] = [
  { type: 'AbleToScale', reason: 'FailedGetScale' },
  { type: 'AbleToScale', reason: 'FailedUpdateScale' },
  { type: 'ScalingActive', reason: 'FailedGetResourceMetric' },
  { type: 'ScalingActive', reason: 'InvalidSelector' },
];

function fromConditions(conditions: Condition[]): HealthStatus {
  // The first condition that says anything decides, as in Argo CD.
  for (const c of conditions) {
    if (DEGRADED.some((d) => d.type === c.type && d.reason === c.reason)) return health('Degraded', c.message);
    if ((c.type === 'AbleToScale' || c.type === 'ScalingLimited') && c.status === 'True') return health('Healthy', c.message);
  }
  return WAITING;
}

export function horizontalPodAutoscalerHealth(obj: KubeObject): HealthStatus {
  const unsupported = unsupportedVersion(obj, ['v1', 'v2beta1', 'v2beta2', 'v2'], 'HPA');
  if (unsupported) return unsupported;
  if (!obj.apiVersion?.endsWith('/v1')) return fromConditions(conditionsAt(obj, 'status', 'conditions'));
  const text = obj.metadata?.annotations?.['autoscaling.alpha.kubernetes.io/conditions'];
  if (text === undefined) return WAITING;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FieldTypeError(`failed to convert conditions annotation to typed: ${(err as Error).message}`);
  }
  if (parsed === null) return WAITING;
  const conditions = conditionsAt({ conditions: parsed }, 'conditions');
  return conditions.length === 0 ? WAITING : fromConditions(conditions);
}
