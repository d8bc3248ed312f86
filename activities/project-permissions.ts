// What an Application's AppProject allows, checked before anything is fetched or applied:
// the repository, the destination, and each kind the source renders (Argo CD's rules,
// from api/projects/boundaries.ts). Destinations are matched by server URL and cluster
// name against the clusters Sluice knows (in-cluster and the registered cluster Secrets).
import { isForbidden, Resources, type KubeClient } from '../k8s/kube-client';
import { checkApplication, checkResource, syncWindowVerdict, type AppProject, type Cluster } from '../domain/projects/boundaries';
import { SourceRefusedError } from '../domain/applications/source-safety';
import type { ApplicationRef, ApplicationSpec } from '../domain/applications/types';
import { groupOf, type ManifestResource } from '../domain/sync/resources';
import { ARGOCD_NAMESPACE, DEFAULT_PROJECT } from '../domain/argo/names';

/**
 * The Application's project, from its own namespace or the control-plane namespace;
 * undefined for a `default` project nobody created, which (as in Argo CD) permits everything.
 */
export async function projectOf(kube: KubeClient, app: ApplicationRef, spec: ApplicationSpec): Promise<{ project: AppProject; namespace: string } | undefined> {
  const name = spec.project || DEFAULT_PROJECT;
  for (const ns of new Set([app.namespace, ARGOCD_NAMESPACE])) {
    try {
      const found = await kube.find<AppProject>(Resources.appProject, ns, name);
      if (found) return { project: found, namespace: ns };
    } catch (err) {
      if (!isForbidden(err)) throw err;
    }
  }
  if (name === DEFAULT_PROJECT) return undefined;
  throw new SourceRefusedError(`spec.project: application references project ${name} which does not exist`);
}

export function checkProjectAllowsApp(
  found: { project: AppProject; namespace: string } | undefined,
  app: ApplicationRef,
  spec: ApplicationSpec,
  clusters?: Cluster[],
): void {
  if (!found) return;
  const result = checkApplication(found.project, spec, { application: app, controllerNamespace: found.namespace, clusters });
  if (!result.ok) throw new SourceRefusedError(result.message);
}

export function checkProjectAllowsResources(
  found: { project: AppProject; namespace: string } | undefined,
  spec: ApplicationSpec,
  manifests: { manifest: ManifestResource; namespaced: boolean }[],
  clusters?: Cluster[],
): void {
  if (!found) return;
  const problems = new Set<string>();
  for (const { manifest, namespaced } of manifests) {
    const result = checkResource(
      found.project,
      {
        group: groupOf(manifest.apiVersion),
        kind: manifest.kind,
        namespaced,
        name: manifest.metadata.name,
        namespace: namespaced ? manifest.metadata.namespace : undefined,
        destination: { server: spec.destination?.server, name: spec.destination?.name },
      },
      { clusters },
    );
    if (!result.ok) problems.add(`${manifest.kind}/${manifest.metadata.name}: ${result.message}`);
  }
  if (problems.size > 0) throw new SourceRefusedError([...problems].join('; '));
}

/**
 * May this app start a sync now under its project's syncWindows? Manual syncs pass a
 * window with manualSync: true; automated ones do not. The message names the blocking
 * window(s), or the unparsable schedule or duration.
 */
export function syncWindowsAllow(
  found: { project: AppProject } | undefined,
  app: ApplicationRef,
  spec: ApplicationSpec,
  manual: boolean,
  now: Date,
): { allowed: boolean; message?: string } {
  if (!found) return { allowed: true };
  const dest = spec.destination ?? {};
  return syncWindowVerdict(found.project, { name: app.name, namespace: dest.namespace ?? '', server: dest.server, cluster: dest.name }, now, manual);
}
