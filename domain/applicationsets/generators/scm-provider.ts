// The scmProvider generator (generators/scm_provider.go): every repository (and branch) of an
// organization on GitHub, GitLab or Gitea that the filters keep, one parameter set each.
import { sanitizeName, type Params } from '../params';
import type { Generator } from './generator';
import { appendTemplatedValues } from './values';
import { listFilteredRepos } from './scm/filters';
import type { ScmProviderKind, ScmRepository } from './scm/provider';
import { github } from './scm/github';
import { gitlab } from './scm/gitlab';
import { gitea } from './scm/gitea';

/** Argo's DefaultSCMProviderRequeueAfter: 30 minutes. */
export const DEFAULT_SCM_REQUEUE_AFTER_SECONDS = 30 * 60;

const providers: readonly ScmProviderKind[] = [github, gitlab, gitea];

/** Argo's parameters for one repository at one branch. */
export function scmParams(repo: ScmRepository, goTemplate: boolean): Params {
  return {
    organization: repo.organization,
    repository: repo.repository,
    // Argo's is an integer: the default templating leaves a non-string tag as written, Go
    // templates print it in full. The Go helper reads numbers as float64 (1.2e+08), so a string.
    repository_id: goTemplate ? String(repo.repositoryId ?? '') : repo.repositoryId,
    url: repo.url,
    branch: repo.branch,
    sha: repo.sha,
    short_sha: repo.sha.slice(0, 8),
    short_sha_7: repo.sha.slice(0, 7),
    labels: repo.labels.join(','),
    branchNormalized: sanitizeName(repo.branch),
  };
}

export const scmProviderGenerator: Generator = {
  kind: 'scmProvider',
  requeueAfterSeconds: (spec) => (typeof spec?.requeueAfterSeconds === 'number' ? spec.requeueAfterSeconds : DEFAULT_SCM_REQUEUE_AFTER_SECONDS),
  async generate(spec, { engine, sources }) {
    const kind = providers.find((p) => spec?.[p.key] !== undefined && spec?.[p.key] !== null);
    if (!kind) throw new Error('no SCM provider implementation configured (Sluice: github, gitlab, gitea)');
    const provider = await kind.create(spec[kind.key], sources);
    let repos: ScmRepository[];
    try {
      repos = await listFilteredRepos(provider, spec.filters, String(spec.cloneProtocol ?? ''));
    } catch (err) {
      throw new Error(`error listing repos: ${(err as Error).message}`, { cause: err });
    }
    const res: Params[] = [];
    for (const repo of repos) {
      const params = scmParams(repo, engine.goTemplate);
      await appendTemplatedValues(spec.values, params, engine);
      res.push(params);
    }
    return res;
  },
};
