// GitHub (and GitHub Enterprise) for the scmProvider generator, over the REST API as
// documented: GET /orgs/{org}/repos, /repos/{o}/{r}/branches[/{b}], /repos/{o}/{r}/contents/{path}.
import type { GeneratorSources } from '../../types';
import {
  ScmRest,
  apiBase,
  linkNextPage,
  pathSegments,
  tokenFrom,
  unknownCloneProtocol,
  type ScmProvider,
  type ScmProviderKind,
  type ScmRepository,
} from './provider';

/** go-github's WithEnterpriseURLs: `/api/v3/` appended unless the URL already ends so or the host is an api. one. */
export function githubApiBase(api: string | undefined): string {
  if (!api) return 'https://api.github.com';
  const base = apiBase(api, 'GitHub');
  const host = new URL(base).hostname;
  if (base.endsWith('/api/v3') || host.startsWith('api.') || host.includes('.api.')) return base;
  return `${base}/api/v3`;
}

export class GitHubProvider implements ScmProvider {
  constructor(
    private readonly rest: ScmRest,
    private readonly organization: string,
    private readonly allBranches: boolean,
  ) {}

  async listRepos(cloneProtocol: string): Promise<ScmRepository[]> {
    let repos: any[];
    try {
      repos = (await this.rest.getAll(`/orgs/${encodeURIComponent(this.organization)}/repos`, { per_page: '100' }, linkNextPage)) ?? [];
    } catch (err) {
      throw new Error(`error listing repositories for ${this.organization}: ${(err as Error).message}`, { cause: err });
    }
    return repos.map((r) => {
      let url: string;
      if (cloneProtocol === '' || cloneProtocol === 'ssh') url = r.ssh_url ?? '';
      else if (cloneProtocol === 'https') url = r.clone_url ?? '';
      else throw unknownCloneProtocol('GitHub', cloneProtocol);
      return {
        organization: String(r.owner?.login ?? ''),
        repository: String(r.name ?? ''),
        branch: String(r.default_branch ?? ''),
        url,
        sha: '',
        labels: Array.isArray(r.topics) ? r.topics.map(String) : [],
        repositoryId: r.id,
      };
    });
  }

  async getBranches(repo: ScmRepository): Promise<ScmRepository[]> {
    const at = `/repos/${encodeURIComponent(repo.organization)}/${encodeURIComponent(repo.repository)}/branches`;
    let branches: any[];
    try {
      if (!this.allBranches) {
        // No default branch: an empty repository, so no branches.
        const res = await this.rest.get(`${at}/${encodeURIComponent(repo.branch)}`, {}, 'undefined');
        branches = res ? [res.body] : [];
      } else branches = (await this.rest.getAll(at, { per_page: '100' }, linkNextPage)) ?? [];
    } catch (err) {
      throw new Error(`error listing branches for ${repo.organization}/${repo.repository}: ${(err as Error).message}`, { cause: err });
    }
    return branches.map((b) => ({ ...repo, branch: String(b?.name ?? ''), sha: String(b?.commit?.sha ?? '') }));
  }

  async repoHasPath(repo: ScmRepository, path: string): Promise<boolean> {
    const at = `/repos/${encodeURIComponent(repo.organization)}/${encodeURIComponent(repo.repository)}/contents/${pathSegments(path)}`;
    return (await this.rest.get(at, { ref: repo.branch }, 'undefined')) !== undefined;
  }
}

export const github: ScmProviderKind = {
  key: 'github',
  title: 'Github',
  async create(spec: any, sources: GeneratorSources) {
    if (spec.appSecretName) throw new Error('GitHub App credentials (appSecretName) are not supported by Sluice; use tokenRef');
    const token = await tokenFrom(sources, spec.tokenRef, 'Github');
    const headers: Record<string, string> = { accept: 'application/vnd.github+json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    return new GitHubProvider(new ScmRest(sources, githubApiBase(spec.api), headers), String(spec.organization ?? ''), !!spec.allBranches);
  },
};
