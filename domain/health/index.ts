// Resource health as Argo CD assesses it, one module per kind, and the order in which
// health statuses aggregate. Pure, so sync and rollout workflows can gate on it.
import { HOOK_FINALIZER } from '../argo/names';
import { apiServiceHealth } from './apiservice';
import { applicationHealth } from './application';
import { daemonSetHealth } from './daemonset';
import { deploymentHealth } from './deployment';
import { horizontalPodAutoscalerHealth } from './hpa';
import { ingressHealth } from './ingress';
import { jobHealth } from './job';
import { podHealth } from './pod';
import { persistentVolumeClaimHealth } from './pvc';
import { replicaSetHealth } from './replicaset';
import { rolloutHealth } from './rollout';
import { serviceHealth } from './service';
import { statefulSetHealth } from './statefulset';
import { FieldTypeError, type HealthStatus, type HealthStatusCode, type KubeObject, groupVersion, health } from './types';
import { argoWorkflowHealth } from './argo-workflow';

export type { HealthStatus, HealthStatusCode, KubeObject } from './types';

type HealthCheck = (obj: KubeObject) => HealthStatus;

// Keyed "group/Kind". Rollout (a Lua check built into Argo CD) and Application (a documented
// customization) sit beside gitops-engine's own checks.
const CHECKS: Record<string, HealthCheck> = {
  'apps/Deployment': deploymentHealth,
  'apps/StatefulSet': statefulSetHealth,
  'apps/ReplicaSet': replicaSetHealth,
  'apps/DaemonSet': daemonSetHealth,
  'extensions/Ingress': ingressHealth,
  'networking.k8s.io/Ingress': ingressHealth,
  'apiregistration.k8s.io/APIService': apiServiceHealth,
  '/Service': serviceHealth,
  '/PersistentVolumeClaim': persistentVolumeClaimHealth,
  '/Pod': podHealth,
  'batch/Job': jobHealth,
  'autoscaling/HorizontalPodAutoscaler': horizontalPodAutoscalerHealth,
  'argoproj.io/Workflow': argoWorkflowHealth,
  'argoproj.io/Rollout': rolloutHealth,
  'argoproj.io/Application': applicationHealth,
};

/** Whether Sluice has a health check for this kind; kinds without one count as Healthy. */
export function hasHealthCheck(apiVersion: string, kind: string): boolean {
  return CHECKS[`${groupVersion({ apiVersion }).group}/${kind}`] !== undefined;
}

/**
 * The health of a live object, or undefined when its kind has no health check (a ConfigMap,
 * a Secret), which Argo CD treats as Healthy.
 */
export function assessHealth(obj: KubeObject): HealthStatus | undefined {
  // Deleting, unless it is a hook Argo CD holds on to until it has seen the hook finish.
  if (obj.metadata?.deletionTimestamp && !(obj.metadata.finalizers ?? []).includes(HOOK_FINALIZER)) {
    return health('Progressing', 'Pending deletion');
  }
  const check = CHECKS[`${groupVersion(obj).group}/${obj.kind ?? ''}`];
  if (!check) return undefined;
  try {
    return check(obj);
  } catch (err) {
    if (err instanceof FieldTypeError) return health('Unknown', `failed to convert unstructured ${obj.kind} to typed: ${err.message}`);
    throw err;
  }
}

/** From most to least healthy: gitops-engine's health order. */
export const HEALTH_ORDER: readonly HealthStatusCode[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

function rank(code: string): number {
  // Like Argo CD, a code outside the list ranks as Healthy.
  return Math.max(0, HEALTH_ORDER.indexOf(code as HealthStatusCode));
}

/** Whether `candidate` is a worse health than `current` (Argo CD's IsWorse). */
export function isWorse(current: HealthStatusCode, candidate: HealthStatusCode): boolean {
  return rank(candidate) > rank(current);
}

/** The worst of several health statuses; Healthy for none. Undefined entries (no health check) count as Healthy. */
export function worstHealth(list: readonly (HealthStatus | HealthStatusCode | undefined)[]): HealthStatusCode {
  let worst: HealthStatusCode = 'Healthy';
  for (const entry of list) {
    if (entry === undefined) continue;
    const code = typeof entry === 'string' ? entry : entry.status;
    if (isWorse(worst, code)) worst = code;
  }
  return worst;
}

export {
  apiServiceHealth,
  applicationHealth,
  argoWorkflowHealth,
  daemonSetHealth,
  deploymentHealth,
  horizontalPodAutoscalerHealth,
  ingressHealth,
  jobHealth,
  persistentVolumeClaimHealth,
  podHealth,
  replicaSetHealth,
  rolloutHealth,
  serviceHealth,
  statefulSetHealth,
};
