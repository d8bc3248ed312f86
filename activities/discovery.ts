// Where each kind lives in the REST API, from the API server's discovery documents,
// cached per group/version and looked up again on a miss (a CRD installed since).
import { KubeApiError, type KubeClient, type ResourceRef } from '../k8s/kube-client';

interface APIResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

export class UnknownKindError extends Error {
  constructor(apiVersion: string, kind: string) {
    super(`the API server has no kind ${kind} in ${apiVersion}`);
    this.name = 'UnknownKindError';
  }
}

export class Discovery {
  private readonly cache = new Map<string, { at: number; kinds: Map<string, ResourceRef> }>();

  constructor(private readonly kube: KubeClient) {}

  /**
   * Like resourceFor, but a kind the server does not serve yet (its CRD applied a moment
   * ago, not yet Established) is looked up again until `waitMs` has passed.
   */
  async resourceForSoon(apiVersion: string, kind: string, waitMs: number): Promise<ResourceRef> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        return await this.resourceFor(apiVersion, kind);
      } catch (err) {
        if (!(err instanceof UnknownKindError) || Date.now() >= deadline) throw err;
        this.cache.delete(apiVersion);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** `fresh`: a kind not in the cache is looked up on the server whatever the cache's age. */
  async resourceFor(apiVersion: string, kind: string, opts: { fresh?: boolean } = {}): Promise<ResourceRef> {
    let entry = this.cache.get(apiVersion);
    if (!entry?.kinds.has(kind) && (!entry || opts.fresh || Date.now() - entry.at > 2000)) entry = await this.load(apiVersion);
    const ref = entry?.kinds.get(kind);
    if (!ref) throw new UnknownKindError(apiVersion, kind);
    return ref;
  }

  private async load(apiVersion: string) {
    const slash = apiVersion.indexOf('/');
    const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    const kinds = new Map<string, ResourceRef>();
    try {
      const list = await this.kube.request<APIResourceList>('GET', group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
      for (const r of list.resources) if (!r.name.includes('/')) kinds.set(r.kind, { group, version, plural: r.name, namespaced: r.namespaced });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
    }
    const entry = { at: Date.now(), kinds };
    this.cache.set(apiVersion, entry);
    return entry;
  }
}
