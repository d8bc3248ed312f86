// The per-resource entries a sync reports (operationState.syncResult.resources) and a
// compare lists (status.resources), built one way: who the entry is about, then what
// happened to it.
import type { ResourceResult, ResourceStatus } from '../applications/types';
import type { SyncTask } from './plan';
import { groupOf, type ManifestResource } from './resources';

/** The version of an apiVersion: "apps/v1" → "v1", "v1" → "v1". */
export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

export type ResourceIdentity = Pick<ResourceStatus, 'group' | 'version' | 'kind' | 'namespace' | 'name'>;

/** Group, version, kind, namespace and name of a manifest; `version` where discovery knows the served one. */
export function resourceIdentity(m: ManifestResource, version = versionOf(m.apiVersion)): ResourceIdentity {
  return { group: groupOf(m.apiVersion), version, kind: m.kind, namespace: m.metadata.namespace ?? '', name: m.metadata.name };
}

/** One entry of a sync result, for a resource applied, pruned or refused in `syncPhase`. */
export function resourceResult(
  m: ManifestResource,
  status: ResourceResult['status'],
  message: string,
  syncPhase: string,
  extra: Partial<ResourceResult> = {},
): ResourceResult {
  return { ...resourceIdentity(m), status, message, syncPhase, ...extra };
}

/** One entry of a sync result for a planned task; a hook's entry names its hook type. */
export function taskResult(t: SyncTask, status: ResourceResult['status'], message: string, extra: Partial<ResourceResult> = {}): ResourceResult {
  const hook = t.isHook ? { hookType: t.hookTypes.find((h) => h === t.phase) ?? t.phase } : {};
  return resourceResult(t.resource, status, message, t.phase, { ...hook, ...extra });
}
