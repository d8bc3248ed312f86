// The scmProvider generator: its filters and parameters (pure, against an in-memory provider),
// and the GitHub, GitLab and Gitea clients against a local HTTP server answering their
// documented REST shapes with pagination (no SCM service runs here).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { listFilteredRepos, goRegExp } from '../../domain/applicationsets/generators/scm/filters';
import type { ScmProvider, ScmRepository } from '../../domain/applicationsets/generators/scm/provider';
import { githubApiBase } from '../../domain/applicationsets/generators/scm/github';
import { gitlabApiBase } from '../../domain/applicationsets/generators/scm/gitlab';
import { scmParams } from '../../domain/applicationsets/generators/scm-provider';
import { transform, requeueAfterSeconds } from '../../domain/applicationsets/generators/transform';
import { generateValidated } from '../../domain/applicationsets/generate';
import { httpGetJSON } from '../../activities/applicationsets';
import { appSet, fakeContext, lookupOnlyGoEngine } from '../support/applicationsets';
import { fixtureRoutes, startScmServer, type ScmServer } from '../support/scm-server';
import type { ApplicationSet } from '../../domain/applicationsets/types';

/** Repositories with branches and files in memory; every path question counted. */
function memoryProvider(repos: Fleet) {
  const pathCalls: string[] = [];
  const branchCalls: string[] = [];
  const provider: ScmProvider = {
    async listRepos(protocol) {
      if (protocol !== '' && protocol !== 'ssh' && protocol !== 'https') throw new Error(`unknown clone protocol for Mem ${protocol}`);
      return repos.map((r, i) => ({
        organization: 'org',
        repository: r.name,
        url: `${protocol || 'ssh'}://${r.name}`,
        branch: Object.keys(r.branches)[0]!,
        sha: '',
        labels: r.labels ?? [],
        repositoryId: i + 1,
      }));
    },
    async getBranches(repo) {
      branchCalls.push(repo.repository);
      const r = repos.find((x) => x.name === repo.repository)!;
      return Object.keys(r.branches).map((b) => ({ ...repo, branch: b, sha: `${b}-sha-0123456789` }));
    },
    async repoHasPath(repo, path) {
      pathCalls.push(`${repo.repository}@${repo.branch}:${path}`);
      return repos.find((x) => x.name === repo.repository)!.branches[repo.branch]!.includes(path);
    },
  };
  return { provider, pathCalls, branchCalls };
}

type Fleet = { name: string; labels?: string[]; branches: Record<string, string[]> }[];
const fleet: Fleet = [
  { name: 'alpha', labels: ['team-a', 'prod'], branches: { main: ['deploy', 'deploy/app.yaml'], dev: ['deploy'] } },
  { name: 'beta', labels: ['team-b'], branches: { main: [], dev: ['deploy', 'legacy'] } },
  { name: 'gamma', branches: { main: ['deploy'] } },
];
const keys = (rs: ScmRepository[]) => rs.map((r) => `${r.repository}@${r.branch}`);

test('filters: no filter keeps every repository and branch; conditions of one entry AND, entries OR', async () => {
  assert.deepEqual(keys(await listFilteredRepos(memoryProvider(fleet).provider, undefined, '')), [
    'alpha@main',
    'alpha@dev',
    'beta@main',
    'beta@dev',
    'gamma@main',
  ]);
  // alpha only on main, beta only on dev: not alpha@dev nor beta@main (Argo's two phases would keep both).
  const ored = await listFilteredRepos(
    memoryProvider(fleet).provider,
    [
      { repositoryMatch: '^alpha$', branchMatch: '^main$' },
      { repositoryMatch: '^beta$', branchMatch: '^dev$' },
    ],
    '',
  );
  assert.deepEqual(keys(ored), ['alpha@main', 'beta@dev']);
  // One entry with a repository condition, another with a branch condition: either suffices.
  const mixed = await listFilteredRepos(memoryProvider(fleet).provider, [{ repositoryMatch: '^gamma' }, { branchMatch: 'dev' }], '');
  assert.deepEqual(keys(mixed), ['alpha@dev', 'beta@dev', 'gamma@main']);
});

test('filters: labelMatch needs one matching label; pathsExist all present, pathsDoNotExist none, trailing / ignored; one call per path', async () => {
  const m = memoryProvider(fleet);
  assert.deepEqual(keys(await listFilteredRepos(m.provider, [{ labelMatch: '^prod$' }], '')), ['alpha@main', 'alpha@dev']);
  // A repository no entry can match has its branches never listed.
  assert.deepEqual(m.branchCalls, ['alpha']);
  const p = memoryProvider(fleet);
  const kept = await listFilteredRepos(
    p.provider,
    [{ pathsExist: ['deploy/', 'deploy/app.yaml'] }, { pathsExist: ['deploy'], pathsDoNotExist: ['legacy'], labelMatch: 'team' }],
    '',
  );
  assert.deepEqual(keys(kept), ['alpha@main', 'alpha@dev']);
  // deploy asked once per branch although both entries name it.
  assert.equal(p.pathCalls.filter((c) => c === 'alpha@main:deploy').length, 1);
  assert.deepEqual(keys(await listFilteredRepos(memoryProvider(fleet).provider, [{ pathsDoNotExist: ['deploy'] }], '')), ['beta@main']);
});

test('filters: Go regexps (unanchored, leading (?i)); a bad one fails naming the field', async () => {
  assert.ok(goRegExp('(?i)^ALPHA').test('alpha'));
  assert.ok(goRegExp('ph').test('alpha'));
  assert.deepEqual(keys(await listFilteredRepos(memoryProvider(fleet).provider, [{ repositoryMatch: '(?i)^GAMMA$' }], '')), ['gamma@main']);
  await assert.rejects(listFilteredRepos(memoryProvider(fleet).provider, [{ branchMatch: '(' }], ''), /error compiling BranchMatch regexp "\("/);
});

test("parameters: Argo's names, short SHAs, labels joined, branchNormalized; repository_id a number unless goTemplate", () => {
  const repo: ScmRepository = {
    organization: 'acme',
    repository: 'svc',
    url: 'git@x:acme/svc.git',
    branch: 'Feature/New_UI',
    sha: '0123456789abcdef',
    labels: ['a', 'b'],
    repositoryId: 123456789,
  };
  assert.deepEqual(scmParams(repo, false), {
    organization: 'acme',
    repository: 'svc',
    repository_id: 123456789,
    url: 'git@x:acme/svc.git',
    branch: 'Feature/New_UI',
    sha: '0123456789abcdef',
    short_sha: '01234567',
    short_sha_7: '0123456',
    labels: 'a,b',
    branchNormalized: 'feature-new-ui',
  });
  assert.equal(scmParams(repo, true).repository_id, '123456789');
  assert.deepEqual([scmParams({ ...repo, sha: 'abc' }, false).short_sha, scmParams({ ...repo, sha: 'abc' }, false).short_sha_7], ['abc', 'abc']);
});

test('API base URLs as the Go clients build them; only http(s)', () => {
  assert.equal(githubApiBase(undefined), 'https://api.github.com');
  assert.equal(githubApiBase('https://ghe.example/'), 'https://ghe.example/api/v3');
  assert.equal(githubApiBase('https://ghe.example/api/v3'), 'https://ghe.example/api/v3');
  assert.equal(gitlabApiBase(undefined), 'https://gitlab.com/api/v4');
  assert.equal(gitlabApiBase('https://gl.example'), 'https://gl.example/api/v4');
  assert.throws(() => githubApiBase('file:///etc/passwd'), /only http and https/);
  assert.throws(() => gitlabApiBase('https://user:pw@gl.example'), /credentials/);
});

let server: ScmServer;
before(async () => {
  server = await startScmServer(fixtureRoutes);
});
after(async () => {
  await server.close();
});

const secrets = { 'scm-token': { token: 's3cret' } };
function liveContext(a: ApplicationSet) {
  const ctx = fakeContext(a, { secrets });
  return { ...ctx, sources: { ...ctx.sources, httpGetJSON } };
}
const generate = async (scm: Record<string, unknown>, goTemplate = false) => {
  const a = appSet({ goTemplate, generators: [{ scmProvider: scm }] });
  const ctx = liveContext(a);
  if (goTemplate) ctx.engine = lookupOnlyGoEngine;
  return (await transform(a.spec.generators![0]!, a.spec.template, ctx, {})).flatMap((r) => r.params);
};

test('GitHub: organization repositories over pages (Link), default branches, an empty repository skipped, the token as Bearer', async () => {
  server.requests.length = 0;
  const out = await generate({ github: { organization: 'acme', api: `${server.base}/gh`, tokenRef: { secretName: 'scm-token', key: 'token' } } });
  assert.deepEqual(
    out.map((p) => [p.repository, p.branch, p.url, p.sha, p.short_sha, p.labels, p.repository_id]),
    [
      ['svc-a', 'main', 'git@github.example:acme/svc-a.git', 'a1b2c3d4e5f60718293a', 'a1b2c3d4', 'team-x,prod', 101],
      ['svc-b', 'main', 'git@github.example:acme/svc-b.git', 'c0ffee', 'c0ffee', '', 123456789],
    ],
  );
  assert.ok(server.requests.some((r) => r.url === '/gh/api/v3/orgs/acme/repos?per_page=100&page=2'));
  assert.ok(server.requests.every((r) => r.auth === 'Bearer s3cret'));
});

test('GitHub: allBranches over pages, https clone URLs, branch and path filters, values, goTemplate ids', async () => {
  const out = await generate(
    {
      cloneProtocol: 'https',
      github: { organization: 'acme', api: `${server.base}/gh/api/v3`, allBranches: true },
      filters: [{ repositoryMatch: '^svc-a$', branchMatch: '^Feature' }, { pathsExist: ['deploy'] }],
      values: { ref: '{{ .repository }}-{{ .branchNormalized }}' },
    },
    true,
  );
  assert.deepEqual(
    out.map((p) => [p.repository, p.branch, p.branchNormalized, p.url, p.repository_id, (p.values as any)?.ref]),
    [
      ['svc-a', 'main', 'main', 'https://github.example/acme/svc-a.git', '101', 'svc-a-main'],
      ['svc-a', 'Feature/X_1', 'feature-x-1', 'https://github.example/acme/svc-a.git', '101', 'svc-a-feature-x-1'],
    ],
  );
  await assert.rejects(generate({ cloneProtocol: 'git', github: { organization: 'acme', api: `${server.base}/gh` } }), /unknown clone protocol for GitHub git/);
});

test('GitLab: group projects over pages (X-Next-Page), topics or tag_list, PRIVATE-TOKEN, allBranches, pathsExist through the tree', async () => {
  server.requests.length = 0;
  const out = await generate({ gitlab: { group: 'grp/sub', api: `${server.base}/gl`, tokenRef: { secretName: 'scm-token', key: 'token' } } });
  assert.deepEqual(
    out.map((p) => [p.organization, p.repository, p.branch, p.url, p.short_sha_7, p.labels, p.repository_id]),
    [
      ['grp/sub', 'api', 'main', 'git@gitlab.example:grp/sub/api.git', '1234567', 'legacy', 7],
      ['grp/sub', 'web', 'develop', 'git@gitlab.example:grp/sub/web.git', 'fedcba0', 'fe', 8],
    ],
  );
  assert.ok(server.requests.some((r) => r.url === '/gl/api/v4/groups/grp%2Fsub/projects?per_page=100&include_subgroups=false&with_shared=true'));
  assert.ok(server.requests.every((r) => r.auth === 's3cret'));
  const all = await generate({
    cloneProtocol: 'https',
    gitlab: { group: 'grp/sub', api: `${server.base}/gl`, allBranches: true },
    filters: [{ repositoryMatch: 'web' }],
  });
  assert.deepEqual(
    all.map((p) => [p.branch, p.url]),
    [
      ['develop', 'https://gitlab.example/grp/sub/web.git'],
      ['release/1.0', 'https://gitlab.example/grp/sub/web.git'],
    ],
  );
  const charts = await generate({ gitlab: { group: 'grp/sub', api: `${server.base}/gl` }, filters: [{ pathsExist: ['charts/Chart.yaml'] }] });
  assert.deepEqual(
    charts.map((p) => p.repository),
    ['api'],
  );
});

test('Gitea: organization repositories over pages, labels, default branches, the token header, labelMatch and pathsExist', async () => {
  server.requests.length = 0;
  const out = await generate({ gitea: { owner: 'org', api: `${server.base}/gt`, tokenRef: { secretName: 'scm-token', key: 'token' } } });
  assert.deepEqual(
    out.map((p) => [p.organization, p.repository, p.branch, p.url, p.sha, p.labels, p.repository_id]),
    [
      ['org', 'one', 'main', 'git@gitea.example:org/one.git', 'aaaabbbbccccdddd', 'prod', 1],
      ['org', 'two', 'main', 'git@gitea.example:org/two.git', 'eeeeffff', '', 2],
    ],
  );
  assert.ok(server.requests.some((r) => r.url === '/gt/api/v1/orgs/org/repos?limit=50&page=2'));
  assert.ok(server.requests.every((r) => r.auth === 'token s3cret'));
  assert.deepEqual(
    (await generate({ gitea: { owner: 'org', api: `${server.base}/gt` }, filters: [{ labelMatch: 'prod' }, { pathsExist: ['kustomization.yaml'] }] })).map(
      (p) => p.repository,
    ),
    ['one', 'two'],
  );
  assert.deepEqual(
    (await generate({ gitea: { owner: 'org', api: `${server.base}/gt` }, filters: [{ labelMatch: 'prod', pathsExist: ['kustomization.yaml'] }] })).map(
      (p) => p.repository,
    ),
    [],
  );
});

test('an API error, a missing token or no provider fails the pass naming the generator; requeue 30 min unless set', async () => {
  const a = appSet({
    generators: [{ scmProvider: { github: { organization: 'acme', api: `${server.base}/gh` } } }],
    template: { metadata: { name: '{{repository}}' }, spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: 'x' } } },
  });
  const inputs = { projects: new Set(['default']), clusterNames: new Set(['in-cluster']), clusterServers: new Set(['https://kubernetes.default.svc']) };
  const ok = await generateValidated(liveContext(a), inputs);
  assert.ok('applications' in ok && ok.applications.length === 2 && ok.requeueAfterSeconds === 1800, JSON.stringify(ok));
  server.failWith = 500;
  try {
    const bad = await generateValidated(liveContext(a), inputs);
    assert.ok('error' in bad && /^generators\[0\] \(scmProvider\): error listing repos: .*500/.test(bad.error), JSON.stringify(bad));
  } finally {
    server.failWith = undefined;
  }
  await assert.rejects(
    generate({ github: { organization: 'acme', api: `${server.base}/gh`, tokenRef: { secretName: 'nope', key: 'token' } } }),
    /error fetching Github token/,
  );
  await assert.rejects(generate({ bitbucket: { owner: 'x' } }), /no SCM provider implementation configured/);
  await assert.rejects(generate({ gitea: { owner: 'org' } }), /api is required/);
  assert.equal(requeueAfterSeconds({ scmProvider: { requeueAfterSeconds: 60, github: {} } }), 60);
});
