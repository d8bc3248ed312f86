// Gitea for the scmProvider generator, over the v1 REST API as documented:
// GET /orgs/{org}/repos, /repos/{o}/{r}/labels, /repos/{o}/{r}/branches[/{b}], /repos/{o}/{r}/contents/{path}.
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

export class GiteaProvider implements ScmProvider {
  constructor(
    private readonly rest: ScmRest,
    private readonly owner: string,
    private readonly allBranches: boolean,
  ) {}

  private repoPath = (name: string) => `/repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(name)}`;

  async listRepos(cloneProtocol: string): Promise<ScmRepository[]> {
    const repos = (await this.rest.getAll(`/orgs/${encodeURIComponent(this.owner)}/repos`, { limit: '50' }, linkNextPage)) ?? [];
    const out: ScmRepository[] = [];
    for (const r of repos) {
      let url: string;
      if (cloneProtocol === '' || cloneProtocol === 'ssh') url = r.ssh_url ?? '';
      // Argo's Gitea provider gives the web URL for https (git clones from it as well).
      else if (cloneProtocol === 'https') url = r.html_url ?? '';
      else throw unknownCloneProtocol('GitHub', cloneProtocol);
      // Argo reads the repository's (issue) labels as its labels.
      const labels = (await this.rest.getAll(`${this.repoPath(String(r.name))}/labels`, { limit: '50' }, linkNextPage)) ?? [];
      out.push({
        organization: this.owner,
        repository: String(r.name ?? ''),
        branch: String(r.default_branch ?? ''),
        url,
        sha: '',
        labels: labels.map((l) => String(l?.name ?? '')),
        repositoryId: r.id,
      });
    }
    return out;
  }

  async getBranches(repo: ScmRepository): Promise<ScmRepository[]> {
    const at = `${this.repoPath(repo.repository)}/branches`;
    if (!this.allBranches) {
      const res = await this.rest.get(`${at}/${encodeURIComponent(repo.branch)}`, {}, 'undefined');
      if (!res)
        throw new Error(
          `got 404 while getting default branch ${JSON.stringify(repo.branch)} for repo ${JSON.stringify(repo.repository)} - check your repo config`,
        );
      return [{ ...repo, sha: String((res.body as any)?.commit?.id ?? '') }];
    }
    const branches = (await this.rest.getAll(at, { limit: '50' }, linkNextPage)) ?? [];
    return branches.map((b) => ({ ...repo, branch: String(b?.name ?? ''), sha: String(b?.commit?.id ?? '') }));
  }

  async repoHasPath(repo: ScmRepository, path: string): Promise<boolean> {
    // A file answers an object, a directory a list: both mean the path exists.
    return (await this.rest.get(`${this.repoPath(repo.repository)}/contents/${pathSegments(path)}`, { ref: repo.branch }, 'undefined')) !== undefined;
  }
}

export const gitea: ScmProviderKind = {
  key: 'gitea',
  title: 'Gitea',
  async create(spec: any, sources: GeneratorSources) {
    if (!spec.api) throw new Error('error initializing Gitea service: api is required');
    const token = await tokenFrom(sources, spec.tokenRef, 'Gitea');
    const rest = new ScmRest(sources, `${apiBase(String(spec.api), 'Gitea')}/api/v1`, token ? { authorization: `token ${token}` } : {});
    return new GiteaProvider(rest, String(spec.owner ?? ''), !!spec.allBranches);
  },
};
