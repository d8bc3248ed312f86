// The pullRequest generator (generators/pull_request.go, services/pull_request) for GitHub,
// GitLab and Gitea: their REST APIs as documented, Argo's filters (branchMatch,
// targetBranchMatch, titleMatch; any filter matching keeps a pull request) and parameters.
import type { Params } from '../params';
import { DEFAULT_REQUEUE_AFTER_SECONDS, type GeneratorSources } from '../types';
import type { Generator } from './generator';
import { appendTemplatedValues } from './values';

export interface PullRequest {
  number: number;
  title: string;
  branch: string;
  targetBranch: string;
  headSHA: string;
  labels: string[];
  author: string;
}

/** gosimple/slug's Make as Argo sets it up: MaxLength 50, `_` → `-`, smart truncation at a `-`. */
export function slugify(text: string, maxLength = 50): string {
  let s = text.replace(/_/g, '-').replace(/&/g, ' and ').replace(/@/g, ' at ');
  s = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  s = s
    .replace(/[^a-z0-9-_]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  if (maxLength <= 0 || s.length <= maxLength) return s;
  for (let i = maxLength; i >= 0; i--) if (s[i] === '-') return s.slice(0, i);
  return s.slice(0, maxLength);
}

async function token(sources: GeneratorSources, ref: { secretName?: string; key?: string } | undefined): Promise<string | undefined> {
  if (!ref?.secretName) return undefined;
  const v = await sources.secretValue(ref.secretName, ref.key ?? '');
  if (v === undefined) throw new Error(`failed to fetch Secret ${ref.secretName}: key ${ref.key} not found`);
  return v;
}

async function getAll(
  sources: GeneratorSources,
  first: string,
  headers: Record<string, string>,
  next: (url: string, h: Record<string, string>) => string | undefined,
) {
  const out: any[] = [];
  for (let url: string | undefined = first, pages = 0; url && pages < 100; pages++) {
    const res = await sources.httpGetJSON(url, headers);
    if (res.status === 404) throw new Error(`repository not found: ${url}`);
    if (res.status < 200 || res.status >= 300) throw new Error(`GET ${url}: ${res.status}`);
    if (!Array.isArray(res.body)) throw new Error(`GET ${url}: not a list`);
    out.push(...res.body);
    url = res.body.length === 0 ? undefined : next(url, res.headers);
  }
  return out;
}

const withPage = (url: string, page: string) => {
  const u = new URL(url);
  u.searchParams.set('page', page);
  return u.toString();
};

export async function listPullRequests(spec: any, sources: GeneratorSources): Promise<PullRequest[]> {
  const hasAll = (want: string[] | undefined, have: string[]) => (want ?? []).every((l) => have.includes(l));
  if (spec.github) {
    const g = spec.github;
    const api = g.api
      ? `${String(g.api).replace(/\/+$/, '')}${/\/api\/v3$/.test(String(g.api).replace(/\/+$/, '')) ? '' : '/api/v3'}`
      : 'https://api.github.com';
    const t = await token(sources, g.tokenRef);
    const headers: Record<string, string> = { accept: 'application/vnd.github+json', ...(t ? { authorization: `Bearer ${t}` } : {}) };
    const link = (_: string, h: Record<string, string>) => /<([^>]+)>;\s*rel="next"/.exec(h.link ?? '')?.[1];
    const pulls = await getAll(sources, `${api}/repos/${encodeURIComponent(g.owner)}/${encodeURIComponent(g.repo)}/pulls?per_page=100`, headers, link);
    return pulls.map(fromGitHubShape).filter((p) => hasAll(g.labels, p.labels));
  }
  if (spec.gitlab) {
    const g = spec.gitlab;
    const api = String(g.api || 'https://gitlab.com').replace(/\/+$/, '');
    const t = await token(sources, g.tokenRef);
    const q = new URLSearchParams({
      per_page: '100',
      ...(g.labels?.length ? { labels: g.labels.join(',') } : {}),
      ...(g.pullRequestState ? { state: g.pullRequestState } : {}),
    });
    const headers: Record<string, string> = t ? { 'private-token': t } : {};
    const next = (url: string, h: Record<string, string>) => (h['x-next-page'] ? withPage(url, h['x-next-page']) : undefined);
    const mrs = await getAll(sources, `${api}/api/v4/projects/${encodeURIComponent(g.project)}/merge_requests?${q}`, headers, next);
    return mrs.map((m) => ({
      number: m.iid,
      title: m.title,
      branch: m.source_branch,
      targetBranch: m.target_branch,
      headSHA: m.sha,
      labels: m.labels ?? [],
      author: m.author?.username,
    }));
  }
  if (spec.gitea) {
    const g = spec.gitea;
    const api = String(g.api ?? '').replace(/\/+$/, '');
    const t = await token(sources, g.tokenRef);
    const headers: Record<string, string> = t ? { authorization: `token ${t}` } : {};
    const pulls = await getAll(
      sources,
      `${api}/api/v1/repos/${encodeURIComponent(g.owner)}/${encodeURIComponent(g.repo)}/pulls?state=open`,
      headers,
      () => undefined,
    );
    return pulls.map(fromGitHubShape).filter((p) => hasAll(g.labels, p.labels));
  }
  throw new Error('failed to select pull request service provider: no Pull Request provider implementation can be selected (Sluice: github, gitlab, gitea)');
}

/** A pull request as GitHub's REST API returns it; Gitea's API answers in the same shape. */
function fromGitHubShape(p: any): PullRequest {
  return {
    number: p.number,
    title: p.title,
    branch: p.head?.ref,
    targetBranch: p.base?.ref,
    headSHA: p.head?.sha,
    labels: (p.labels ?? []).map((l: any) => l.name),
    author: p.user?.login,
  };
}

export function filterPullRequests(
  pulls: PullRequest[],
  filters: { branchMatch?: string; targetBranchMatch?: string; titleMatch?: string }[] | undefined,
): PullRequest[] {
  if (!filters || filters.length === 0) return pulls;
  const compiled = filters.map((f) => ({
    branch: f.branchMatch !== undefined ? new RegExp(f.branchMatch) : undefined,
    target: f.targetBranchMatch !== undefined ? new RegExp(f.targetBranchMatch) : undefined,
    title: f.titleMatch !== undefined ? new RegExp(f.titleMatch) : undefined,
  }));
  return pulls.filter((p) =>
    compiled.some((f) => (!f.branch || f.branch.test(p.branch)) && (!f.target || f.target.test(p.targetBranch)) && (!f.title || f.title.test(p.title))),
  );
}

export const pullRequestGenerator: Generator = {
  kind: 'pullRequest',
  requeueAfterSeconds: (spec) => (typeof spec?.requeueAfterSeconds === 'number' ? spec.requeueAfterSeconds : DEFAULT_REQUEUE_AFTER_SECONDS),
  async generate(spec, { engine, sources }) {
    let pulls: PullRequest[];
    try {
      pulls = filterPullRequests(await listPullRequests(spec ?? {}, sources), spec?.filters);
    } catch (err) {
      const message = (err as Error).message;
      if (/^repository not found/.test(message) && spec?.continueOnRepoNotFoundError) return [];
      throw new Error(`error listing repos: ${message}`, { cause: err });
    }
    const res: Params[] = [];
    for (const p of pulls) {
      const sha = String(p.headSHA ?? '');
      const params: Params = {
        number: String(p.number),
        title: p.title,
        branch: p.branch,
        branch_slug: slugify(p.branch),
        target_branch: p.targetBranch,
        target_branch_slug: slugify(p.targetBranch),
        head_sha: sha,
        head_short_sha: sha.slice(0, 8),
        head_short_sha_7: sha.slice(0, 7),
        author: p.author,
      };
      if (engine.goTemplate) params.labels = p.labels;
      await appendTemplatedValues(spec?.values, params, engine);
      res.push(params);
    }
    return res;
  },
};
