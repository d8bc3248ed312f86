// All activities, bound to their clients once per worker.
import type { KubeClient } from '../k8s/kube-client';
import type { RolloutCache } from './rollout-cache';
import { createAnalysisActivities } from './analysis';
import { createRolloutActivities } from './rollout';
import { createApplicationActivities } from './application';
import { createSyncActivities } from './sync';

export function createActivities(kube: KubeClient, rolloutCache?: RolloutCache) {
  return { ...createRolloutActivities(kube, rolloutCache), ...createAnalysisActivities(kube), ...createApplicationActivities(kube), ...createSyncActivities(kube) };
}
