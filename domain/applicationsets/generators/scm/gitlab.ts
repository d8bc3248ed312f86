// GitLab for the scmProvider generator, over the v4 REST API as documented:
// GET /groups/{id}/projects, /projects/{id}/repository/branches[/{b}], /projects/{id}/repository/tree.
import type { GeneratorSources } from '../../types';
import { ScmRest, apiBase, tokenFrom, unknownCloneProtocol, type ScmProvider, type ScmProviderKind, type ScmRepository } from './provider';

/** go-gitlab's WithBaseURL: `/api/v4` appended unless present; gitlab.com by default. */
export function gitlabApiBase(api: string | undefined): string {
  if (!api) return 'https://gitlab.com/api/v4';
  const base = apiBase(api, 'GitLab');
  return base.endsWith('/api/v4') ? base : `${base}/api/v4`;
}

/** GitLab pages with X-Next-Page (empty on the last page). */
const nextPage = (h: Record<string, string>) => h['x-next-page'] || undefined;

/** Go's path.Dir for a relative path: "." when there is no slash. */
const dir = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) || '/' : '.');

export class GitLabProvider implements ScmProvider {
  constructor(
    private readonly rest: ScmRest,
    private readonly group: string,
    private readonly opts: { allBranches: boolean; includeSubgroups: boolean; includeSharedProjects: boolean; topic: string },
  ) {}

  async listRepos(cloneProtocol: string): Promise<ScmRepository[]> {
    const query: Record<string, string> = {
      per_page: '100',
      include_subgroups: String(this.opts.includeSubgroups),
      with_shared: String(this.opts.includeSharedProjects),
      ...(this.opts.topic ? { topic: this.opts.topic } : {}),
    };
    let projects: any[];
    try {
      projects = (await this.rest.getAll(`/groups/${encodeURIComponent(this.group)}/projects`, query, nextPage)) ?? [];
    } catch (err) {
      throw new Error(`error listing projects for ${this.group}: ${(err as Error).message}`, { cause: err });
    }
    return projects.map((p) => {
      let url: string;
      if (cloneProtocol === '' || cloneProtocol === 'ssh') url = p.ssh_url_to_repo ?? '';
      else if (cloneProtocol === 'https') url = p.http_url_to_repo ?? '';
      else throw unknownCloneProtocol('Gitlab', cloneProtocol);
      // Topics since GitLab 14.5, tag_list before.
      const labels = Array.isArray(p.topics) && p.topics.length > 0 ? p.topics : Array.isArray(p.tag_list) ? p.tag_list : [];
      return {
        organization: String(p.namespace?.full_path ?? ''),
        repository: String(p.path ?? ''),
        url,
        branch: String(p.default_branch ?? ''),
        sha: '',
        labels: labels.map(String),
        repositoryId: p.id,
      };
    });
  }

  async getBranches(repo: ScmRepository): Promise<ScmRepository[]> {
    const at = `/projects/${encodeURIComponent(String(repo.repositoryId))}/repository/branches`;
    let branches: any[];
    try {
      if (!this.opts.allBranches) {
        const res = await this.rest.get(`${at}/${encodeURIComponent(repo.branch)}`, {}, 'undefined');
        branches = res ? [res.body] : [];
      } else branches = (await this.rest.getAll(at, { per_page: '100' }, nextPage, 'undefined')) ?? [];
    } catch (err) {
      throw new Error(`error listing branches for ${repo.organization}/${repo.repository}: ${(err as Error).message}`, { cause: err });
    }
    return branches.map((b) => ({ ...repo, branch: String(b?.name ?? ''), sha: String(b?.commit?.id ?? '') }));
  }

  /** As Argo: the project by its full path, then its parent directory's listing at the branch. */
  async repoHasPath(repo: ScmRepository, path: string): Promise<boolean> {
    const project = await this.rest.get(`/projects/${encodeURIComponent(`${repo.organization}/${repo.repository}`)}`);
    const id = (project!.body as any)?.id;
    const nodes = await this.rest.getAll(
      `/projects/${encodeURIComponent(String(id))}/repository/tree`,
      { path: dir(path), ref: repo.branch, per_page: '100' },
      nextPage,
      // No parent directory: the path is not there either.
      'undefined',
    );
    return (nodes ?? []).some((n) => n?.path === path);
  }
}

export const gitlab: ScmProviderKind = {
  key: 'gitlab',
  title: 'Gitlab',
  async create(spec: any, sources: GeneratorSources) {
    const token = await tokenFrom(sources, spec.tokenRef, 'Gitlab');
    const rest = new ScmRest(sources, gitlabApiBase(spec.api), token ? { 'private-token': token } : {});
    return new GitLabProvider(rest, String(spec.group ?? ''), {
      allBranches: !!spec.allBranches,
      includeSubgroups: !!spec.includeSubgroups,
      // Argo's WillIncludeSharedProjects: true unless set to false.
      includeSharedProjects: spec.includeSharedProjects !== false,
      topic: String(spec.topic ?? ''),
    });
  },
};
