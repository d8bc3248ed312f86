// The list-then-watch loop every watcher runs: list (each object reported as ADDED, so a
// restart resyncs), watch from the list's resourceVersion, and list again when the
// watch expires (410) or fails.
import type { KubeClient, KubeObject, ResourceRef } from '../k8s/kube-client';

export interface InformOptions {
  kube: KubeClient;
  resource: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  signal: AbortSignal;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** `onList` sees each complete list before its objects are reported one by one. */
export async function inform(opts: InformOptions, onObject: (type: string, obj: KubeObject) => void, onList?: (items: KubeObject[]) => void): Promise<void> {
  const { kube, resource, namespace, labelSelector, signal, log } = opts;
  while (!signal.aborted) {
    try {
      const { items, resourceVersion } = await kube.list(resource, namespace, { labelSelector });
      onList?.(items);
      for (const obj of items) onObject('ADDED', obj);
      let rv = resourceVersion;
      let expired = false;
      while (!signal.aborted && !expired) {
        await kube.watch(
          resource,
          namespace,
          { labelSelector, resourceVersion: rv, timeoutSeconds: 240 },
          (ev) => {
            if (ev.type === 'ERROR') {
              expired = true; // 410 Gone: our resourceVersion is too old
              return;
            }
            rv = ev.object.metadata.resourceVersion ?? rv;
            if (ev.type !== 'BOOKMARK') onObject(ev.type, ev.object);
          },
          signal,
        );
      }
    } catch (err) {
      if (signal.aborted) return;
      log('watch failed; listing again', { resource: resource.plural, error: String(err) });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
