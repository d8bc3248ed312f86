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

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceRef> {
    let entry = this.cache.get(apiVersion);
    if (!entry?.kinds.has(kind) && (!entry || Date.now() - entry.at > 2000)) entry = await this.load(apiVersion);
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
