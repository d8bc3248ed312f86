// What the rollout activities read instead of the API server when they can: the
// Rollouts, their ReplicaSets and Services, copied by the watcher's informers and by
// the activities' own writes. Copies are trimmed to the fields observations use (a
// ReplicaSet without its pod template), so memory per rollout stays small.
import { ObjectStore } from '../k8s/object-store';
import type { KubeObject } from '../k8s/kube-client';
import { MANAGED_BY_ANNOTATION, POD_TEMPLATE_ANNOTATION } from '../domain/argo/names';

export interface RolloutCache {
  rollouts: ObjectStore;
  replicaSets: ObjectStore;
  services: ObjectStore;
}

export function createRolloutCache(namespace: string | undefined): RolloutCache {
  return {
    rollouts: new ObjectStore(namespace),
    replicaSets: new ObjectStore(namespace, trimReplicaSet),
    services: new ObjectStore(namespace, trimService),
  };
}

/** Whether every read an observation of `namespace` makes can come from the cache. */
export function cacheCovers(cache: RolloutCache | undefined, namespace: string): cache is RolloutCache {
  return !!cache && cache.rollouts.covers(namespace) && cache.replicaSets.covers(namespace) && cache.services.covers(namespace);
}

// The recorded pod template (undo reads it from the API server) is the bulk of a
// ReplicaSet's annotations; the spec's template is not read from the copy at all.
function trimReplicaSet(rs: KubeObject): KubeObject {
  const { [POD_TEMPLATE_ANNOTATION]: _template, ...annotations } = rs.metadata.annotations ?? {};
  return {
    apiVersion: rs.apiVersion,
    kind: rs.kind,
    metadata: {
      name: rs.metadata.name,
      namespace: rs.metadata.namespace,
      uid: rs.metadata.uid,
      resourceVersion: rs.metadata.resourceVersion,
      generation: rs.metadata.generation,
      creationTimestamp: rs.metadata.creationTimestamp,
      labels: rs.metadata.labels,
      annotations,
      ownerReferences: rs.metadata.ownerReferences,
    },
    spec: { replicas: rs.spec?.replicas },
    status: rs.status,
  };
}

function trimService(svc: KubeObject): KubeObject {
  const managedBy = svc.metadata.annotations?.[MANAGED_BY_ANNOTATION];
  return {
    apiVersion: svc.apiVersion,
    kind: svc.kind,
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      uid: svc.metadata.uid,
      resourceVersion: svc.metadata.resourceVersion,
      annotations: managedBy === undefined ? {} : { [MANAGED_BY_ANNOTATION]: managedBy },
    },
    spec: { selector: svc.spec?.selector },
  };
}
