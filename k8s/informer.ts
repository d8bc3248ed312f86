// The list-then-watch loop every watcher and every cache runs: list (each object
// reported as listed, so a restart resyncs), watch from the list's resourceVersion, and
// list again when the watch expires (410) or fails, backing off up to 5 s (short: a
// watcher that waits longer misses nudges after an API server outage) and logging only
// the first failure and every tenth, so a kind that is not installed stays quiet.
import type { KubeClient, KubeObject, ResourceRef } from './kube-client';

export interface InformOptions {
  kube: KubeClient;
  resource: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal: AbortSignal;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * `onObject` sees every object of a list (type ADDED, `listed` true) and every watch
 * event; `onList` sees each complete list first.
 */
export async function inform(
  opts: InformOptions,
  onObject: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, listed: boolean) => void,
  onList?: (items: KubeObject[]) => void,
): Promise<void> {
  const { kube, resource, namespace, labelSelector, fieldSelector, signal, log } = opts;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const { items, resourceVersion } = await kube.list(resource, namespace, { labelSelector, fieldSelector });
      failures = 0;
      onList?.(items);
      for (const obj of items) onObject('ADDED', obj, true);
      let rv = resourceVersion;
      let expired = false;
      while (!signal.aborted && !expired) {
        await kube.watch(
          resource,
          namespace,
          { labelSelector, fieldSelector, resourceVersion: rv, timeoutSeconds: 240 },
          (ev) => {
            if (ev.type === 'ERROR') {
              expired = true; // 410 Gone: our resourceVersion is too old
              return;
            }
            rv = ev.object.metadata.resourceVersion ?? rv;
            if (ev.type !== 'BOOKMARK') onObject(ev.type, ev.object, false);
          },
          signal,
        );
      }
    } catch (err) {
      if (signal.aborted) return;
      if (failures++ === 0 || failures % 10 === 0) log('watch failed; listing again', { resource: resource.plural, error: String(err) });
      await new Promise((r) => setTimeout(r, Math.min(5_000, 1000 * 2 ** (failures - 1))));
    }
  }
}
