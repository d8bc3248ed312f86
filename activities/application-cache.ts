// What the application activities read instead of the API server when they can, as Argo
// CD's controller reads its informers and cluster cache: the Applications, and the
// objects of the commonly managed kinds that carry a tracking annotation, copied by the
// application watcher (which nudges only after updating its copy) and by the activities'
// own writes. Only a copy that is there is trusted: an object missing from it is read
// from the API server, because another Sluice process may have started the workflow
// before this one's watch saw the object. A copy that lags is followed by its watcher's
// nudge, so the pass it misleads is followed by one that is not.
import { IMAGE_UPDATE_CONDITION, type Condition } from '../domain/images/condition';
import { ObjectStore } from '../k8s/object-store';
import { Resources, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import { parseTrackingId } from '../domain/applications/tracking';
import { TRACKING_ID_ANNOTATION } from '../domain/argo/names';

/** Kinds watched for drift and kept here; a managed object of another kind is read from the API server. */
export const MANAGED_KINDS: ResourceRef[] = [
  Resources.deployment,
  { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  Resources.service,
  Resources.configMap,
  Resources.job,
  Resources.ingress,
];

export interface ApplicationCache {
  applications: ObjectStore;
  /** Tracked objects by `group/plural`. */
  managed: Map<string, ObjectStore>;
}

export const kindKey = (ref: Pick<ResourceRef, 'group' | 'plural'>) => `${ref.group}/${ref.plural}`;

export function createApplicationCache(namespace: string | undefined): ApplicationCache {
  return {
    applications: new ObjectStore(namespace, trimApplication),
    managed: new Map(MANAGED_KINDS.map((ref) => [kindKey(ref), new ObjectStore(namespace, trimManaged)])),
  };
}

/** The copy of an Application, when the cache covers its namespace and holds it. */
export function cachedApplication(cache: ApplicationCache | undefined, namespace: string, name: string): KubeObject | undefined {
  return cache?.applications.covers(namespace) ? cache.applications.get(namespace, name) : undefined;
}

/** The copy of a tracked object, when the cache covers its kind and namespace and holds it. */
export function cachedManaged(cache: ApplicationCache | undefined, ref: ResourceRef, namespace: string | undefined, name: string): KubeObject | undefined {
  const store = cache?.managed.get(kindKey(ref));
  if (!store || !namespace || !ref.namespaced || !store.covers(namespace)) return undefined;
  return store.get(namespace, name);
}

/** Whether an object carries a tracking annotation, so belongs in the copy. */
export const isTrackedCopy = (obj: KubeObject) => parseTrackingId(obj.metadata.annotations?.[TRACKING_ID_ANNOTATION]) !== undefined;

/** Applies a watch event to a copy of tracked objects: one that loses its annotation leaves it. */
export function keepTracked(copy: ObjectStore | undefined, type: string, obj: KubeObject): void {
  if (!copy) return;
  if (type !== 'DELETED' && isTrackedCopy(obj)) copy.upsert(obj);
  else copy.remove(obj);
}

// A pass reads an Application's spec, metadata and operation; its status (resources,
// history, operation state) is what the pass writes, and the bulk of the object. Kept: the
// ImageUpdateError condition (the image workflow owns it and a status write keeps it), and
// an operationState while Running (a pass resumes one its workflow does not know of).
function trimApplication(app: KubeObject): KubeObject {
  const { status, ...rest } = app as KubeObject & { status?: { conditions?: Condition[]; operationState?: { phase?: string; syncResult?: unknown } } };
  const image = (status?.conditions ?? []).filter((c: Condition) => c?.type === IMAGE_UPDATE_CONDITION);
  const running = status?.operationState?.phase === 'Running' ? { ...status.operationState, syncResult: undefined } : undefined;
  const kept = { ...(image.length > 0 ? { conditions: image } : {}), ...(running ? { operationState: running } : {}) };
  return { ...rest, metadata: withoutManagedFields(app.metadata), ...(Object.keys(kept).length > 0 ? { status: kept } : {}) };
}

// Compares take health and the version from the copy; a full comparison (a dry-run
// apply) reads the object from the API server, so managed fields are not kept.
function trimManaged(obj: KubeObject): KubeObject {
  return { ...obj, metadata: withoutManagedFields(obj.metadata) };
}

function withoutManagedFields(metadata: KubeObject['metadata']): KubeObject['metadata'] {
  const { managedFields: _managedFields, ...rest } = metadata as KubeObject['metadata'] & { managedFields?: unknown };
  return rest;
}
