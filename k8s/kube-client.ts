// A thin REST client over a kubeconfig (k8s/kubeconfig.ts reads it).
// We talk to the API directly because Sluice needs status subresources, merge and
// server-side-apply patches, dry-runs and raw watches on arbitrary kinds, which the
// generated clients make awkward.
import * as https from 'node:https';
import * as http from 'node:http';
import { delimiter as pathDelimiter } from 'node:path';
import { kubeAccessFromDefault, kubeAccessFromFiles, type KubeAccess } from './kubeconfig';

export type { KubeObject, ObjectMeta, OwnerReference } from '../domain/objects';
import type { KubeObject } from '../domain/objects';

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** An API error with the status code and the server's own message. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The apiserver could not build a typed patch: the object does not match its schema (a 500, but the object's fault). */
export const isSchemaMismatch = (err: unknown) =>
  err instanceof KubeApiError && err.statusCode === 500 && /failed to create typed patch object/.test(err.message);

export const isNotFound = (err: unknown) => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown) => err instanceof KubeApiError && err.statusCode === 409;
export const isForbidden = (err: unknown) => err instanceof KubeApiError && err.statusCode === 403;

/**
 * The apiserver's answers that refuse a request for what it says or who sends it:
 * 400 BadRequest (malformed), 403 Forbidden (RBAC, admission), 422 Invalid (the object
 * fails validation). The same request is refused again, so a caller reports it (a
 * SyncFailed result, a non-retryable failure) instead of retrying. 404 and 409 are not
 * here: they say something about the object's state (gone, already there, changed
 * meanwhile), which each caller weighs with isNotFound and isConflict.
 */
export const REFUSED_STATUS_CODES: readonly number[] = [400, 403, 422];

/** A request the apiserver refused (REFUSED_STATUS_CODES, or a server-side apply the schema cannot type). */
export function isRefused(err: unknown): err is KubeApiError {
  return err instanceof KubeApiError && (REFUSED_STATUS_CODES.includes(err.statusCode) || isSchemaMismatch(err));
}

/**
 * What gitops-engine reports on the one resource (a SyncFailed result, a compare that
 * cannot tell) rather than failing the whole step: a refused request, a namespace that
 * does not exist (404), an object changed or created meanwhile (409).
 */
export const failsResource = (err: unknown) => isRefused(err) || isNotFound(err) || isConflict(err);

/** A namespace or kind this client may not read, or that is not there: for a lookup, nothing to find. */
export const isOutOfReach = (err: unknown) => isForbidden(err) || isNotFound(err);

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Where a kind lives in the REST API. */
export interface ResourceRef {
  group: string; // '' for the core group
  version: string;
  plural: string;
  namespaced: boolean;
}

export const Resources = {
  rollout: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespaced: true },
  analysisRun: { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysisruns', namespaced: true },
  experiment: { group: 'argoproj.io', version: 'v1alpha1', plural: 'experiments', namespaced: true },
  analysisTemplate: { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysistemplates', namespaced: true },
  clusterAnalysisTemplate: { group: 'argoproj.io', version: 'v1alpha1', plural: 'clusteranalysistemplates', namespaced: false },
  application: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespaced: true },
  appProject: { group: 'argoproj.io', version: 'v1alpha1', plural: 'appprojects', namespaced: true },
  applicationSet: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applicationsets', namespaced: true },
  imageUpdater: { group: 'argocd-image-updater.argoproj.io', version: 'v1alpha1', plural: 'imageupdaters', namespaced: true },
  replicaSet: { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  service: { group: '', version: 'v1', plural: 'services', namespaced: true },
  pod: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  namespace: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  node: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  secret: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  configMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  event: { group: '', version: 'v1', plural: 'events', namespaced: true },
  ingress: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true },
  job: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  crd: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false },
} satisfies Record<string, ResourceRef>;

export function resourcePath(res: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  const base = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  const ns = res.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const n = name ? `/${encodeURIComponent(name)}` : '';
  const sub = subresource ? `/${subresource}` : '';
  return `${base}${ns}/${res.plural}${n}${sub}`;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export class KubeClient {
  private readonly server: URL;
  private readonly agent: http.Agent;

  requestTimeoutMs = 8000;

  constructor(readonly access: KubeAccess) {
    this.server = new URL(access.server);
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    this.agent = this.server.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** From the kubeconfig files `path` lists (KUBECONFIG's syntax), or where client-node would look when none. */
  static fromKubeconfig(path?: string): KubeClient {
    const files = (path ?? '').split(pathDelimiter).filter(Boolean);
    return new KubeClient(files.length > 0 ? kubeAccessFromFiles(files) : kubeAccessFromDefault());
  }

  async get<T = KubeObject>(res: ResourceRef, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(res, namespace, name));
  }

  /** Like get, but undefined when the object does not exist. */
  async find<T = KubeObject>(res: ResourceRef, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get<T>(res, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T = KubeObject>(res: ResourceRef, namespace?: string, opts: ListOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string;
    do {
      const q = query({ ...opts, continue: cont, limit: opts.limit ?? 500 });
      const page = await this.request<{ apiVersion?: string; kind?: string; items: T[]; metadata: { continue?: string; resourceVersion: string } }>(
        'GET',
        resourcePath(res, namespace) + q,
      );
      items.push(...typedItems(page));
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  async create<T = KubeObject>(
    res: ResourceRef,
    namespace: string | undefined,
    body: unknown,
    opts: { dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    return this.request<T>('POST', resourcePath(res, namespace) + query({ dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager }), body);
  }

  async replace<T = KubeObject>(res: ResourceRef, namespace: string | undefined, name: string, body: unknown, subresource?: string): Promise<T> {
    return this.request<T>('PUT', resourcePath(res, namespace, name, subresource), body);
  }

  async patch<T = KubeObject>(
    res: ResourceRef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: {
      type?: PatchType;
      subresource?: string;
      fieldManager?: string;
      force?: boolean;
      dryRun?: boolean;
      fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
    } = {},
  ): Promise<T> {
    const type = opts.type ?? 'merge';
    const q = query({
      fieldManager: opts.fieldManager,
      force: opts.force ? 'true' : undefined,
      dryRun: opts.dryRun ? 'All' : undefined,
      fieldValidation: opts.fieldValidation,
    });
    return this.request<T>('PATCH', resourcePath(res, namespace, name, opts.subresource) + q, body, patchContentType[type]);
  }

  async delete(
    res: ResourceRef,
    namespace: string | undefined,
    name: string,
    propagationPolicy: 'Foreground' | 'Background' | 'Orphan' = 'Background',
  ): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(res, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Streams watch events until the server closes the watch, `signal` aborts, or an error.
   * Resolves when the stream ends; callers re-list and re-watch (informer style).
   */
  async watch<T = KubeObject>(
    res: ResourceRef,
    namespace: string | undefined,
    opts: ListOptions & { resourceVersion?: string; timeoutSeconds?: number },
    onEvent: (ev: WatchEvent<T>) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const q = query({
      watch: '1',
      allowWatchBookmarks: 'true',
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      timeoutSeconds: String(opts.timeoutSeconds ?? 300),
    });
    const res2 = await this.open('GET', resourcePath(res, namespace) + q, undefined, undefined, signal);
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      res2.setEncoding('utf8');
      res2.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (err) {
            res2.destroy();
            reject(err);
            return;
          }
        }
      });
      res2.on('end', () => resolve());
      res2.on('close', () => resolve());
      res2.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
    });
  }

  /** A plain-text endpoint such as /readyz: its status code and body. */
  async getText(path: string): Promise<{ statusCode: number; text: string }> {
    const res = await this.open('GET', path);
    return { statusCode: res.statusCode ?? 0, text: await readBody(res) };
  }

  async request<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    // A bounded request: an unreachable API server fails the call (and the activity
    // retries it) instead of hanging until TCP gives up.
    const res = await this.open(method, path, body, contentType, AbortSignal.timeout(this.requestTimeoutMs));
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    let reason = 'Unknown';
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text);
      reason = parsed.reason ?? reason;
      message = parsed.message ?? message;
    } catch {
      /* not a Status object */
    }
    throw new KubeApiError(status, reason, `${method} ${path}: ${status} ${message}`);
  }

  private async open(method: string, path: string, body?: unknown, contentType?: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const base = await this.access.requestOptions();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...(base.headers as Record<string, string> | undefined) };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const options: https.RequestOptions = {
      ...base,
      protocol: this.server.protocol,
      hostname: this.server.hostname,
      port: this.server.port,
      path: this.server.pathname.replace(/\/$/, '') + path,
      method,
      headers,
      agent: this.agent,
      signal,
    };
    const transport = this.server.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(options, resolve);
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string | number][];
  if (entries.length === 0) return '';
  return '?' + entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    let ended = false;
    res.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', reject);
    res.on('close', () => ended || reject(new Error('the API server closed the connection mid-response')));
  });
}

/**
 * The items of a list page with the list's apiVersion and kind: a LIST's items carry
 * neither (watch events and GETs do), and readers of listed objects (tracking ids,
 * health, the watchers' copies) need them.
 */
export function typedItems<T>(page: { apiVersion?: string; kind?: string; items: T[] }): T[] {
  const kind = page.kind?.replace(/List$/, '');
  for (const item of page.items as (T & { apiVersion?: string; kind?: string })[]) {
    item.apiVersion ??= page.apiVersion;
    item.kind ??= kind;
  }
  return page.items;
}
