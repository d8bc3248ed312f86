// A Docker Registry HTTP API v2 client: ping, Basic and Bearer token challenges, tag
// lists with Link pagination, manifests of every media type in use with platform
// selection, and the config blob's `created` time. What a digest holds never changes, so
// it is remembered per digest and never fetched twice (Image Updater's N+1 manifest
// requests, argocd-image-updater #511). Credentials never appear in errors.

import { createHash } from 'node:crypto';
import { httpRequest, type HttpResponse } from './http';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;
const ACCEPT = Object.values(MEDIA_TYPES).join(', ');

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  apiUrl: string;
  credentials?: RegistryCredentials;
  insecure?: boolean;
  /** Requests per second. */
  rateLimit?: number;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** What a manifest digest holds: platforms and, per platform image, the build time. */
export interface DigestInfo {
  mediaType: string;
  /** os/arch[/variant] of each image; [] when a single manifest's config names none. */
  platforms: string[];
  /** Build time (ms) of the image for the wanted platform; undefined when the config has none. */
  created?: number;
}

/** Per registry+repository+digest, process-wide: content-addressed, so never stale. */
const digestCache = new Map<string, DigestInfo>();

const platformOf = (p: { os?: string; architecture?: string; variant?: string } | undefined): string | undefined =>
  p?.os && p.architecture ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : undefined;

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

export class RegistryClient {
  /** Requests sent, for the benchmark and tests. */
  requests = 0;
  private readonly tokens = new Map<string, string>();
  private basic = false;
  private next = Promise.resolve();
  private lastAt = 0;

  constructor(private readonly opts: RegistryClientOptions) {}

  private async throttle(): Promise<void> {
    if (!this.opts.rateLimit) return;
    const gap = 1000 / this.opts.rateLimit;
    const turn = this.next.then(async () => {
      const wait = this.lastAt + gap - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.lastAt = Date.now();
    });
    this.next = turn;
    await turn;
  }

  private authHeader(scope: string): Record<string, string> {
    const token = this.tokens.get(scope);
    if (token) return { authorization: `Bearer ${token}` };
    if (this.basic && this.opts.credentials)
      return { authorization: `Basic ${Buffer.from(`${this.opts.credentials.username}:${this.opts.credentials.password}`).toString('base64')}` };
    return {};
  }

  private async send(url: string, scope: string, headers: Record<string, string>, method = 'GET'): Promise<HttpResponse> {
    await this.throttle();
    this.requests++;
    try {
      return await httpRequest(url, { method, headers: { ...headers, ...this.authHeader(scope) }, insecure: this.opts.insecure });
    } catch (err) {
      throw new RegistryError(`registry ${new URL(url).host} unreachable: ${(err as Error).message}`);
    }
  }

  /** A request, answering one 401 challenge (Basic or Bearer) and retrying once. */
  private async get(path: string, scope: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpResponse> {
    const url = `${this.opts.apiUrl}${path}`;
    let res = await this.send(url, scope, headers, method);
    if (res.status === 401) {
      await this.answer(String(res.headers['www-authenticate'] ?? ''), scope);
      res = await this.send(url, scope, headers, method);
      if (res.status === 401) throw new RegistryError(`registry ${new URL(url).host} refused the credentials for ${scope || 'access'}`, 401);
    }
    return res;
  }

  private async answer(header: string, scope: string): Promise<void> {
    const host = new URL(this.opts.apiUrl).host;
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      if (!this.opts.credentials) throw new RegistryError(`registry ${host} requires credentials`, 401);
      this.basic = true;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new RegistryError(`registry ${host} sent an unsupported challenge (${scheme || 'none'})`, 401);
    const realm = new URL(params.realm);
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new RegistryError(`registry ${host} names a token realm that is not http(s)`);
    if (params.service) realm.searchParams.set('service', params.service);
    const wanted = scope || params.scope;
    if (wanted) realm.searchParams.set('scope', wanted);
    const auth: Record<string, string> = this.opts.credentials
      ? { authorization: `Basic ${Buffer.from(`${this.opts.credentials.username}:${this.opts.credentials.password}`).toString('base64')}` }
      : {};
    await this.throttle();
    this.requests++;
    let res: HttpResponse;
    try {
      res = await httpRequest(realm.toString(), { headers: auth, insecure: this.opts.insecure });
    } catch (err) {
      throw new RegistryError(`token service ${realm.host} unreachable: ${(err as Error).message}`);
    }
    if (res.status !== 200) throw new RegistryError(`token service ${realm.host} refused the credentials (HTTP ${res.status})`, res.status);
    const body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`token service ${realm.host} returned no token`);
    this.tokens.set(scope, token);
  }

  private static repoPath(repository: string): string {
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+|__)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository))
      throw new RegistryError(`invalid repository name ${JSON.stringify(repository)}`);
    return repository;
  }

  private fail(res: HttpResponse, what: string): never {
    let detail = '';
    try {
      const e = JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
      detail = e.errors?.map((x) => x.code ?? x.message).join(', ') ?? '';
    } catch {
      /* not JSON */
    }
    throw new RegistryError(`${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`, res.status);
  }

  /** GET /v2/: reachable, and the credentials (if any) accepted. */
  async ping(): Promise<void> {
    const res = await this.get('/v2/', '');
    if (res.status !== 200) this.fail(res, `registry ${new URL(this.opts.apiUrl).host} ping`);
  }

  /** Every tag, following `Link: <…>; rel="next"`. */
  async tags(repository: string, pageSize?: number): Promise<string[]> {
    const repo = RegistryClient.repoPath(repository);
    const scope = `repository:${repo}:pull`;
    const out: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list${pageSize ? `?n=${pageSize}` : ''}`;
    for (let pages = 0; path !== undefined; pages++) {
      if (pages > 10_000) throw new RegistryError(`tag list of ${repo} does not end`);
      const res = await this.get(path, scope);
      if (res.status !== 200) this.fail(res, `tag list of ${repo}`);
      const body = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
      out.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      path = undefined;
      if (link) {
        const next = new URL(link[1]!, this.opts.apiUrl);
        if (next.origin !== new URL(this.opts.apiUrl).origin) throw new RegistryError(`tag list of ${repo} links to another host`);
        path = `${next.pathname}${next.search}`;
      }
    }
    return out;
  }

  /** The digest a tag points at now (HEAD; one request). */
  async digestOf(repository: string, tag: string): Promise<string> {
    const repo = RegistryClient.repoPath(repository);
    const res = await this.get(`/v2/${repo}/manifests/${encodeURIComponent(tag)}`, `repository:${repo}:pull`, { accept: ACCEPT }, 'HEAD');
    if (res.status !== 200) this.fail(res, `manifest ${repo}:${tag}`);
    const digest = res.headers['docker-content-digest'];
    if (typeof digest === 'string' && digest !== '') return digest;
    return (await this.manifest(repo, tag)).digest;
  }

  private async manifest(repo: string, reference: string): Promise<{ digest: string; mediaType: string; body: Record<string, any> }> {
    const res = await this.get(`/v2/${repo}/manifests/${encodeURIComponent(reference)}`, `repository:${repo}:pull`, { accept: ACCEPT });
    if (res.status !== 200) this.fail(res, `manifest ${repo}:${reference}`);
    const body = JSON.parse(res.body.toString('utf8')) as Record<string, any>;
    const header = res.headers['docker-content-digest'];
    const digest = typeof header === 'string' && header ? header : `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const mediaType = String(body.mediaType ?? String(res.headers['content-type'] ?? '').split(';')[0]);
    return { digest, mediaType, body };
  }

  private async created(repo: string, configDigest: string): Promise<{ created?: number; platform?: string }> {
    const res = await this.get(`/v2/${repo}/blobs/${configDigest}`, `repository:${repo}:pull`);
    if (res.status !== 200) this.fail(res, `config blob ${repo}@${configDigest}`);
    const cfg = JSON.parse(res.body.toString('utf8')) as { created?: string; os?: string; architecture?: string; variant?: string };
    const t = cfg.created ? Date.parse(cfg.created) : NaN;
    return { ...(Number.isFinite(t) ? { created: t } : {}), ...(platformOf(cfg) ? { platform: platformOf(cfg) } : {}) };
  }

  /**
   * What a tag (or digest) holds: its digest, platforms and, when asked, the build time of
   * the image for the first wanted platform. Remembered per digest.
   */
  async describe(repository: string, reference: string, opts: { buildTime: boolean; platforms: readonly string[] }): Promise<DigestInfo & { digest: string }> {
    const repo = RegistryClient.repoPath(repository);
    const m = await this.manifest(repo, reference);
    const key = `${this.opts.apiUrl}/${repo}@${m.digest}|${opts.platforms.join(',')}|${opts.buildTime}`;
    const hit = digestCache.get(key);
    if (hit) return { ...hit, digest: m.digest };
    const info = await this.describeManifest(repo, m, opts);
    digestCache.set(key, info);
    return { ...info, digest: m.digest };
  }

  private async describeManifest(
    repo: string,
    m: { mediaType: string; body: Record<string, any> },
    opts: { buildTime: boolean; platforms: readonly string[] },
  ): Promise<DigestInfo> {
    if (m.mediaType === MEDIA_TYPES.dockerList || m.mediaType === MEDIA_TYPES.ociIndex || Array.isArray(m.body.manifests)) {
      const entries = (m.body.manifests ?? []) as { digest: string; platform?: { os?: string; architecture?: string; variant?: string } }[];
      const platforms = entries.map((e) => platformOf(e.platform)).filter((p): p is string => p !== undefined && p !== 'unknown/unknown');
      const info: DigestInfo = { mediaType: m.mediaType, platforms };
      if (!opts.buildTime) return info;
      const pick =
        entries.find((e) => opts.platforms.some((w) => platformOf(e.platform)?.startsWith(w))) ?? (opts.platforms.length === 0 ? entries[0] : undefined);
      if (!pick) return info;
      const child = await this.manifest(repo, pick.digest);
      const config = (child.body.config as { digest?: string } | undefined)?.digest;
      if (config) Object.assign(info, await this.created(repo, config));
      return info;
    }
    if (m.mediaType === MEDIA_TYPES.dockerManifest || m.mediaType === MEDIA_TYPES.ociManifest || m.body.config) {
      const config = (m.body.config as { digest?: string } | undefined)?.digest;
      if (!config || !opts.buildTime) return { mediaType: m.mediaType, platforms: [] };
      const c = await this.created(repo, config);
      return { mediaType: m.mediaType, platforms: c.platform ? [c.platform] : [], ...(c.created !== undefined ? { created: c.created } : {}) };
    }
    throw new RegistryError(`manifest of ${repo} has unsupported media type ${m.mediaType || '(none)'}`);
  }
}
