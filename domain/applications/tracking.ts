// Argo CD's annotation tracking: every managed object carries
// argocd.argoproj.io/tracking-id = "<app>:<group>/<kind>:<namespace>/<name>", where <app>
// is the Application's name when it lives in the control-plane namespace and
// "<namespace>_<name>" otherwise (Argo CD's InstanceName).
import { ARGOCD_NAMESPACE, TRACKING_ID_ANNOTATION } from '../argo/names';
import { groupOf, type ManifestResource } from '../sync/resources';
import type { ApplicationRef } from './types';

/** An app in the control-plane namespace is tracked by its bare name. */
export function instanceName(app: ApplicationRef, controlPlaneNamespace = ARGOCD_NAMESPACE): string {
  return app.namespace === controlPlaneNamespace ? app.name : `${app.namespace}_${app.name}`;
}

export function appFromInstance(instance: string, controlPlaneNamespace = ARGOCD_NAMESPACE): ApplicationRef {
  const sep = instance.indexOf('_');
  return sep < 0 ? { namespace: controlPlaneNamespace, name: instance } : { namespace: instance.slice(0, sep), name: instance.slice(sep + 1) };
}

export function trackingId(instance: string, r: ManifestResource): string {
  return `${instance}:${groupOf(r.apiVersion)}/${r.kind}:${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

export interface ParsedTrackingId {
  instance: string;
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function parseTrackingId(id: string | undefined): ParsedTrackingId | undefined {
  const m = id ? /^([^:]+):([^/:]*)\/([^:]+):([^/]*)\/(.+)$/.exec(id) : null;
  return m ? { instance: m[1], group: m[2], kind: m[3], namespace: m[4], name: m[5] } : undefined;
}

/**
 * Whether a live object belongs to the app: its tracking id names the app and the object
 * itself (a copied annotation on another object does not count, as in Argo CD).
 */
export function isTrackedBy(instance: string, live: ManifestResource): boolean {
  const parsed = parseTrackingId(live.metadata.annotations?.[TRACKING_ID_ANNOTATION]);
  return (
    parsed !== undefined &&
    parsed.instance === instance &&
    parsed.group === groupOf(live.apiVersion) &&
    parsed.kind === live.kind &&
    parsed.name === live.metadata.name &&
    parsed.namespace === (live.metadata.namespace ?? '')
  );
}

/** The manifest as Sluice applies it: namespaced objects default to the destination namespace, and carry the tracking id. */
export function prepareManifest(r: ManifestResource, instance: string, destinationNamespace: string, namespaced: boolean): ManifestResource {
  const metadata = { ...r.metadata };
  if (namespaced && !metadata.namespace && destinationNamespace) metadata.namespace = destinationNamespace;
  if (!namespaced) delete metadata.namespace;
  const prepared = { ...r, metadata };
  metadata.annotations = { ...(r.metadata.annotations ?? {}), [TRACKING_ID_ANNOTATION]: trackingId(instance, prepared) };
  return prepared;
}
