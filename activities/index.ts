// All activities, bound to their clients once per worker.
import type { KubeClient } from '../k8s/kube-client';
import type { RolloutCache } from './rollout-cache';
import type { ApplicationCache } from './application-cache';
import { createAnalysisActivities } from './analysis';
import { createRolloutActivities } from './rollout';
import { createApplicationActivities } from './application';
import { createSyncActivities } from './sync';
import { ClusterClients } from '../k8s/clusters';
import { createApplicationSetActivities } from './applicationsets';
import { createNotificationActivities } from './notifications/activities';
import { createImageActivities } from './images/activities';

export function createActivities(kube: KubeClient, rolloutCache?: RolloutCache, applicationCache?: ApplicationCache) {
  // One set of destination-cluster clients for the compare and the sync steps.
  const clusters = new ClusterClients(kube);
  return {
    ...createRolloutActivities(kube, rolloutCache),
    ...createAnalysisActivities(kube),
    ...createApplicationActivities(kube, undefined, undefined, clusters, applicationCache),
    ...createSyncActivities(kube, clusters),
    ...createApplicationSetActivities(kube, { clusters }),
    ...createNotificationActivities(kube),
    ...createImageActivities(kube),
  };
}
