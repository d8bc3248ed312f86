// One SCM provider (Argo's scm_provider.SCMProviderService) behind one interface: list an
// organization's repositories, their branches, and whether a path exists on a branch. Each
// provider is a file here; scm-provider.ts picks one by the key set in the generator spec.
import type { GeneratorSources } from '../../types';

/** A repository at one branch (Argo's scm_provider.Repository). */
export interface ScmRepository {
  organization: string;
  repository: string;
  url: string;
  branch: string;
  /** Empty until the branches are read. */
  sha: string;
  labels: string[];
  repositoryId: number | string;
}

export interface ScmProvider {
  /** Every repository of the organization, on its default branch, `url` by clone protocol. */
  listRepos(cloneProtocol: string): Promise<ScmRepository[]>;
  /** The default branch only, or every branch with `allBranches`; with their head commits. */
  getBranches(repo: ScmRepository): Promise<ScmRepository[]>;
  repoHasPath(repo: ScmRepository, path: string): Promise<boolean>;
}

export interface ScmProviderKind {
  /** The key under scmProvider: github, gitlab, gitea. */
  readonly key: string;
  /** Provider name in errors ("error fetching Github token"). */
  readonly title: string;
  create(spec: any, sources: GeneratorSources): Promise<ScmProvider>;
}

/** The token a `tokenRef` names (Argo's utils.GetSecretRef); no ref, no token. */
export async function tokenFrom(sources: GeneratorSources, ref: { secretName?: string; key?: string } | undefined, title: string) {
  if (!ref?.secretName) return undefined;
  const v = await sources.secretValue(ref.secretName, ref.key ?? '');
  if (v === undefined) throw new Error(`error fetching ${title} token: key ${JSON.stringify(ref.key ?? '')} in secret ${ref.secretName} not found`);
  return v;
}

/** An API base URL: http or https only, no credentials in it, no trailing slash. */
export function apiBase(api: string, title: string): string {
  let u: URL;
  try {
    u = new URL(api);
  } catch {
    throw new Error(`invalid ${title} API URL ${JSON.stringify(api)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`invalid ${title} API URL ${JSON.stringify(api)}: only http and https`);
  if (u.username || u.password) throw new Error(`invalid ${title} API URL: credentials are read from tokenRef, not the URL`);
  return api.replace(/\/+$/, '');
}

export const pathSegments = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export class ScmApiError extends Error {
  override name = 'ScmApiError';
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`GET ${url}: ${status}`);
  }
}

/** A JSON REST client on one API base; the token goes in headers only, never in messages. */
export class ScmRest {
  constructor(
    private readonly sources: GeneratorSources,
    readonly base: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** One GET; undefined for a 404 when `notFound` is 'undefined', an error for any other non-2xx. */
  async get(path: string, query: Record<string, string> = {}, notFound: 'error' | 'undefined' = 'error') {
    const url = this.url(path, query);
    const res = await this.sources.httpGetJSON(url, this.headers);
    if (res.status === 404 && notFound === 'undefined') return undefined;
    if (res.status < 200 || res.status >= 300) throw new ScmApiError(res.status, url);
    return res;
  }

  /**
   * Every page of a list. `nextPage` reads the next page number from a response's headers; the
   * next request is built here (never a URL the server sent), so a token goes only to `base`.
   */
  async getAll(
    path: string,
    query: Record<string, string>,
    nextPage: (headers: Record<string, string>) => string | undefined,
    notFound: 'error' | 'undefined' = 'error',
  ) {
    const out: any[] = [];
    let page: string | undefined;
    for (let n = 0; n < 1000; n++) {
      const res = await this.get(path, page ? { ...query, page } : query, notFound);
      if (!res) return undefined;
      if (!Array.isArray(res.body)) throw new Error(`GET ${this.url(path, query)}: the answer is not a list`);
      out.push(...res.body);
      const next = res.body.length === 0 ? undefined : nextPage(res.headers);
      if (!next || next === page) return out;
      page = next;
    }
    throw new Error(`GET ${this.url(path, query)}: more than 1000 pages`);
  }

  private url(path: string, query: Record<string, string>) {
    const q = new URLSearchParams(query).toString();
    return `${this.base}${path}${q ? `?${q}` : ''}`;
  }
}

/** The page number in a Link header's rel="next" (GitHub, Gitea), as go-github reads it. */
export function linkNextPage(headers: Record<string, string>): string | undefined {
  for (const part of (headers.link ?? '').split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (!m) continue;
    try {
      return new URL(m[1]!, 'http://x').searchParams.get('page') ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function unknownCloneProtocol(title: string, protocol: string): Error {
  return new Error(`unknown clone protocol for ${title} ${protocol}`);
}
