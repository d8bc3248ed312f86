import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replaceDefault } from '../../domain/applicationsets/fasttemplate';
import { goFloat, sanitizeName, flattenToStrings } from '../../domain/applicationsets/params';
import { gitPathspecMatch, goPathMatch } from '../../domain/applicationsets/globs';
import { generateApplications, generateValidated, validateApplications, type GeneratedApplication } from '../../domain/applicationsets/generate';
import { transform, requeueAfterSeconds } from '../../domain/applicationsets/generators/transform';
import { appSet, exampleAppSet, fakeContext } from '../support/applicationsets';
import { examplesDir } from '../support/paths';
import type { ApplicationSet } from '../../domain/applicationsets/types';

const REPO = 'https://git.example.com/devops/ops-deploy';
const repoFiles = {
  'apps/frontend/deployment.yaml': 'kind: Deployment',
  'apps/backend/deployment.yaml': 'kind: Deployment',
  'apps/database/deployment.yaml': 'kind: Deployment',
  'nginx-chart/Chart.yaml': 'name: nginx',
  '.github/workflows/x.yaml': 'x',
};

const params = async (a: ApplicationSet, world = {}) =>
  (await transform(a.spec.generators![0]!, a.spec.template, fakeContext(a, world), {})).flatMap((r) => r.params);
const names = (apps: GeneratedApplication[]) => apps.map((a) => a.metadata.name).sort();

test('fasttemplate: known string params replaced, tags trimmed, unknown and non-string ones kept as written', () => {
  assert.equal(replaceDefault('{{a}}-{{ a }}-{{b}}-{{}}-{{n}}', { a: 'x', n: 3 }), 'x-x-{{b}}-{{}}-{{n}}');
  assert.equal(replaceDefault('no tags', {}), 'no tags');
  // `{{` and `}}` on different lines: not a template for Argo's regexp, returned as is.
  assert.equal(replaceDefault('{{a\n}}', { a: 'x' }), '{{a\n}}');
  assert.throws(() => replaceDefault('{{a}} {{b', { a: 'x' }), /Cannot find end tag/);
  assert.equal(replaceDefault('{{a {{a}}', { a: 'x' }), '{{a {{a}}');
});

test('sanitizeName, Go %v floats, flattening as Argo', () => {
  assert.equal(sanitizeName('-My_Cluster.Prod-'), 'my-cluster.prod');
  assert.equal(sanitizeName('a'.repeat(300)).length, 253);
  assert.deepEqual([1, 1.5, 123456, 1e6, 1234567, 0.0001, 0.00001].map(goFloat), ['1', '1.5', '123456', '1e+06', '1.234567e+06', '0.0001', '1e-05']);
  assert.deepEqual(flattenToStrings({ a: { b: [1, true], c: {} }, d: null }), { 'a.b.0': '1', 'a.b.1': 'true', d: '<nil>' });
});

test('globs: Go path.Match stops at /, git pathspecs cross it and match under a literal directory', () => {
  assert.equal(goPathMatch('apps/*', 'apps/frontend'), true);
  assert.equal(goPathMatch('apps/*', 'apps/frontend/x'), false);
  assert.equal(goPathMatch('apps/[a-c]*', 'apps/backend'), true);
  assert.equal(goPathMatch('apps/[!a-c]*', 'apps/frontend'), true);
  assert.throws(() => goPathMatch('apps/[', 'apps/x'));
  assert.equal(gitPathspecMatch('cluster-config/**/config.json', 'cluster-config/eu/prod/config.json'), true);
  assert.equal(gitPathspecMatch('cluster-config/*/config.json', 'cluster-config/eu/prod/config.json'), true);
  assert.equal(gitPathspecMatch('cluster-config', 'cluster-config/eu/config.json'), true);
  assert.equal(gitPathspecMatch('cluster-config', 'cluster-configs/x.json'), false);
});

test('list: elements (strings, values.*), elementsYaml appended; a non-string value fails without goTemplate', async () => {
  const a = appSet({ generators: [{ list: { elements: [{ env: 'dev', values: { size: 's' } }], elementsYaml: '- env: prod\n  count: 3\n' } }] });
  assert.deepEqual(await params(a), [
    { env: 'dev', 'values.size': 's' },
    { env: 'prod', count: 3 },
  ]);
  const bad = appSet({ generators: [{ list: { elements: [{ env: 1 }] } }] });
  await assert.rejects(params(bad), /error parsing value as string/);
  const go = appSet({ goTemplate: true, generators: [{ list: { elements: [{ env: { name: 'dev' } }] } }] });
  assert.deepEqual(await params(go), [{ env: { name: 'dev' } }]);
});

test('clusters: Secrets by selector, the local cluster unless a selector is set or a Secret names it, values rendered', async () => {
  const clusters = [
    { name: 'prod-EU', server: 'https://eu', project: 'p', labels: { env: 'prod' }, annotations: { team: 'a' } },
    { name: 'staging', server: 'https://st', labels: { env: 'staging' }, annotations: {} },
  ];
  const all = await params(appSet({ generators: [{ clusters: { values: { where: '{{name}}@{{server}}' } } }] }), { clusters });
  assert.deepEqual(
    all.map((p) => p.name),
    ['prod-EU', 'staging', 'in-cluster'],
  );
  assert.deepEqual(all[0], {
    name: 'prod-EU',
    nameNormalized: 'prod-eu',
    server: 'https://eu',
    project: 'p',
    'metadata.annotations.team': 'a',
    'metadata.labels.env': 'prod',
    'values.where': 'prod-EU@https://eu',
  });
  assert.deepEqual(all[2], {
    name: 'in-cluster',
    nameNormalized: 'in-cluster',
    server: 'https://kubernetes.default.svc',
    project: '',
    'values.where': 'in-cluster@https://kubernetes.default.svc',
  });
  const prod = await params(appSet({ generators: [{ clusters: { selector: { matchLabels: { env: 'prod' } } } }] }), { clusters });
  assert.deepEqual(
    prod.map((p) => p.name),
    ['prod-EU'],
  );
  const withLocal = [...clusters, { name: 'local', server: 'https://kubernetes.default.svc', labels: {}, annotations: {} }];
  assert.deepEqual(
    (await params(appSet({ generators: [{ clusters: {} }] }), { clusters: withLocal })).map((p) => p.name),
    ['local', 'prod-EU', 'staging'],
  );
  const go = await params(
    appSet({ goTemplate: true, generators: [{ clusters: { selector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['staging'] }] } } }] }),
    { clusters },
  );
  assert.deepEqual(go, [{ name: 'staging', nameNormalized: 'staging', server: 'https://st', project: '', metadata: { labels: { env: 'staging' } } }]);
});

test('git directories: globs, exclude, hidden directories never listed, path parameters and pathParamPrefix', async () => {
  const a = appSet({ generators: [{ git: { repoURL: REPO, revision: 'HEAD', directories: [{ path: 'apps/*' }, { path: 'apps/database', exclude: true }] } }] });
  const ps = await params(a, { repos: { [REPO]: repoFiles } });
  assert.deepEqual(ps, [
    { path: 'apps/backend', 'path.basename': 'backend', 'path.basenameNormalized': 'backend', 'path[0]': 'apps', 'path[1]': 'backend' },
    { path: 'apps/frontend', 'path.basename': 'frontend', 'path.basenameNormalized': 'frontend', 'path[0]': 'apps', 'path[1]': 'frontend' },
  ]);
  const prefixed = appSet({
    goTemplate: true,
    generators: [{ git: { repoURL: REPO, revision: 'HEAD', pathParamPrefix: 'app', directories: [{ path: 'nginx-*' }] } }],
  });
  assert.deepEqual(await params(prefixed, { repos: { [REPO]: repoFiles } }), [
    { app: { path: { path: 'nginx-chart', basename: 'nginx-chart', basenameNormalized: 'nginx-chart', segments: ['nginx-chart'] } } },
  ]);
  assert.deepEqual(
    await params(appSet({ generators: [{ git: { repoURL: REPO, directories: [{ path: '*' }] } }] }), { repos: { [REPO]: repoFiles } }).then((p) =>
      p.map((x) => x.path),
    ),
    ['apps', 'nginx-chart'],
  );
});

test('git files: JSON and YAML, objects and lists, flattened keys, ** and exclude, file path parameters, values', async () => {
  const files = {
    'clusters/eu/prod/config.json': '{"cluster": {"name": "eu-prod", "replicas": 3, "tags": ["a", "b"]}}',
    'clusters/us/config.yaml': '- cluster: {name: us-1}\n- cluster: {name: us-2}\n',
    'clusters/skip/config.json': '{"cluster": {"name": "skip"}}',
  };
  const a = appSet({
    generators: [
      {
        git: {
          repoURL: REPO,
          revision: 'main',
          values: { label: '{{cluster.name}}-x' },
          files: [{ path: 'clusters/**/config.*' }, { path: 'clusters/skip/*', exclude: true }],
        },
      },
    ],
  });
  const ps = await params(a, { repos: { [REPO]: files } });
  assert.deepEqual(ps[0], {
    'cluster.name': 'eu-prod',
    'cluster.replicas': '3',
    'cluster.tags.0': 'a',
    'cluster.tags.1': 'b',
    path: 'clusters/eu/prod',
    'path.basename': 'prod',
    'path.filename': 'config.json',
    'path.basenameNormalized': 'prod',
    'path.filenameNormalized': 'config.json',
    'path[0]': 'clusters',
    'path[1]': 'eu',
    'path[2]': 'prod',
    'values.label': 'eu-prod-x',
  });
  assert.deepEqual(
    ps.map((p) => p['cluster.name']),
    ['eu-prod', 'us-1', 'us-2'],
  );
  const go = appSet({ goTemplate: true, generators: [{ git: { repoURL: REPO, files: [{ path: 'clusters/us/*' }] } }] });
  const gp = await params(go, { repos: { [REPO]: files } });
  assert.deepEqual(gp[0], {
    cluster: { name: 'us-1' },
    path: {
      path: 'clusters/us',
      basename: 'us',
      filename: 'config.yaml',
      basenameNormalized: 'us',
      filenameNormalized: 'config.yaml',
      segments: ['clusters', 'us'],
    },
  });
  await assert.rejects(
    params(appSet({ generators: [{ git: { repoURL: REPO, files: [{ path: '*.json' }] } }] }), { repos: { [REPO]: { 'bad.json': '"just a string"' } } }),
    /unable to process file 'bad.json'/,
  );
});

test('git: an unknown project or an unreachable repository is an error; requeue 180 s by default', async () => {
  const a = appSet({ template: { spec: { project: 'nope' } }, generators: [{ git: { repoURL: REPO, directories: [{ path: '*' }] } }] });
  await assert.rejects(params(a, { repos: { [REPO]: repoFiles } }), /error getting project nope/);
  const b = appSet({ generators: [{ git: { repoURL: REPO, directories: [{ path: '*' }] } }] });
  await assert.rejects(params(b, { failGit: true }), /unreachable/);
  assert.equal(requeueAfterSeconds(b.spec.generators![0]!), 180);
  assert.equal(requeueAfterSeconds({ list: { elements: [] } }), undefined);
  assert.equal(requeueAfterSeconds({ matrix: { generators: [{ list: {} }, { git: { requeueAfterSeconds: 30 } }] } }), 30);
});

test("matrix: the examples multiply, the second child sees the first one's parameters, conflicting keys fail", async () => {
  const a = exampleAppSet(examplesDir, 'matrix-apps-envs.yaml');
  const { applications } = await generateApplications(fakeContext(a, { repos: { [REPO]: repoFiles } }));
  assert.equal(applications.length, 9);
  const fe = applications.find((x) => x.metadata.name === 'frontend-dev')!;
  assert.equal(fe.metadata.namespace, 'argocd');
  assert.deepEqual(fe.spec.destination, { server: 'https://kubernetes.default.svc', namespace: 'dev-frontend' });
  assert.equal(fe.spec.source.path, 'apps/frontend');
  assert.deepEqual(fe.metadata.finalizers, ['resources-finalizer.argocd.argoproj.io']);
  const interp = appSet({
    generators: [{ matrix: { generators: [{ list: { elements: [{ dir: 'apps' }] } }, { git: { repoURL: REPO, directories: [{ path: '{{dir}}/*' }] } }] } }],
  });
  assert.equal((await params(interp, { repos: { [REPO]: repoFiles } })).length, 3);
  const clash = appSet({ generators: [{ matrix: { generators: [{ list: { elements: [{ a: '1' }] } }, { list: { elements: [{ a: '2' }] } }] } }] });
  await assert.rejects(params(clash), /found duplicate key a with different value/);
  await assert.rejects(params(appSet({ generators: [{ matrix: { generators: [{ list: { elements: [] } }] } }] })), /less than two generators/);
});

test('matrix nests one level (a matrix or merge child), not two', async () => {
  const list = (k: string, vs: string[]) => ({ list: { elements: vs.map((v) => ({ [k]: v })) } });
  const nested = appSet({
    generators: [{ matrix: { generators: [list('a', ['1', '2']), { matrix: { generators: [list('b', ['x']), list('c', ['y', 'z'])] } }] } }],
  });
  assert.equal((await params(nested)).length, 4);
  const tooDeep = appSet({
    generators: [
      {
        matrix: {
          generators: [list('a', ['1']), { matrix: { generators: [list('b', ['x']), { matrix: { generators: [list('c', ['1']), list('d', ['2'])] } }] } }],
        },
      },
    ],
  });
  await assert.rejects(params(tooDeep), /child generator generated no parameters/);
});

test('merge: base sets overridden by mergeKeys; duplicates fail; no keys fail', async () => {
  const a = appSet({
    generators: [
      {
        merge: {
          mergeKeys: ['server'],
          generators: [
            {
              list: {
                elements: [
                  { server: 's1', size: 'small' },
                  { server: 's2', size: 'small' },
                ],
              },
            },
            {
              list: {
                elements: [
                  { server: 's2', size: 'large' },
                  { server: 's3', size: 'x' },
                ],
              },
            },
          ],
        },
      },
    ],
  });
  assert.deepEqual(
    (await params(a)).sort((x, y) => String(x.server).localeCompare(String(y.server))),
    [
      { server: 's1', size: 'small' },
      { server: 's2', size: 'large' },
    ],
  );
  const dup = appSet({
    generators: [{ merge: { mergeKeys: ['k'], generators: [{ list: { elements: [{ k: '1' }, { k: '1' }] } }, { list: { elements: [] } }] } }],
  });
  await assert.rejects(params(dup), /not unique by the given mergeKeys/);
  await assert.rejects(
    params(appSet({ generators: [{ merge: { generators: [{ list: { elements: [{ k: '1' }] } }, { list: { elements: [] } }] } }] })),
    /no merge keys/,
  );
});

test('generator-level selector and template override', async () => {
  const a = appSet({
    template: {
      metadata: { name: '{{env}}', labels: { team: 'a' } },
      spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: '{{env}}' } },
    },
    generators: [
      {
        list: {
          elements: [{ env: 'dev' }, { env: 'prod' }],
          template: { metadata: { labels: { tier: 'x' } }, spec: { destination: { namespace: 'fixed-{{env}}' } } },
        },
        selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      },
    ],
  });
  const { applications } = await generateApplications(fakeContext(a));
  assert.deepEqual(names(applications), ['dev']);
  assert.deepEqual(applications[0]!.metadata.labels, { tier: 'x', team: 'a' });
  assert.deepEqual(applications[0]!.spec.destination, { namespace: 'fixed-dev', server: 'https://kubernetes.default.svc' });
});

test('the four examples give the Applications the README lists', async () => {
  const world = { repos: { [REPO]: repoFiles } };
  const expect: Record<string, string[]> = {
    'nginx-multi-env.yaml': ['nginx-dev', 'nginx-prod', 'nginx-staging'],
    'monorepo-apps.yaml': ['backend', 'database', 'frontend'],
    'myapp-all-envs.yaml': ['myapp-dev', 'myapp-prod', 'myapp-staging'],
  };
  for (const [file, want] of Object.entries(expect)) {
    const { applications } = await generateApplications(fakeContext(exampleAppSet(examplesDir, file), world));
    assert.deepEqual(names(applications), want, file);
  }
  const nginx = (await generateApplications(fakeContext(exampleAppSet(examplesDir, 'nginx-multi-env.yaml'), world))).applications.find(
    (x) => x.metadata.name === 'nginx-staging',
  )!;
  assert.deepEqual(nginx.spec.source.helm, { valueFiles: ['../environments/staging/values.yaml'] });
  assert.equal(nginx.spec.destination.namespace, 'staging-nginx');
  assert.equal(nginx.spec.syncPolicy.automated.prune, true);
});

test('validation: duplicate names, invalid names, unknown projects and destinations fail the pass, naming them', async () => {
  const inputs = { projects: new Set(['default']), clusterNames: new Set(['in-cluster']), clusterServers: new Set(['https://kubernetes.default.svc']) };
  const dup = appSet({
    template: { metadata: { name: 'same' }, spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: 'x' } } },
    generators: [{ list: { elements: [{ a: '1' }, { a: '2' }] } }],
  });
  const out = await generateValidated(fakeContext(dup), inputs);
  assert.ok('error' in out && /duplicate name: same/.test(out.error) && out.reason === 'ApplicationValidationError');
  const badName = appSet({
    template: { metadata: { name: 'App_{{a}}' }, spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc' } } },
    generators: [{ list: { elements: [{ a: '1' }] } }],
  });
  const out2 = await generateValidated(fakeContext(badName), inputs);
  assert.ok('error' in out2 && /invalid name "App_1"/.test(out2.error));
  const apps = [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'a', namespace: 'argocd' },
      spec: { project: 'nope', destination: { server: 'https://kubernetes.default.svc' } },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'b', namespace: 'argocd' },
      spec: { project: 'default', destination: { server: 'https://elsewhere' } },
    },
  ] as GeneratedApplication[];
  assert.deepEqual(validateApplications(dup, apps, inputs), [
    'Application a: application references project nope which does not exist',
    'Application b: application destination spec is invalid: there are no clusters with this URL: https://elsewhere',
  ]);
  const unknown = appSet({ generators: [{ somethingNew: {} }] });
  const out3 = await generateValidated(fakeContext(unknown), inputs);
  assert.ok('error' in out3 && /unrecognized generators: somethingNew/.test(out3.error));
});

test('templatePatch applies as a merge patch, the project cannot be changed by it; preserveResourcesOnDeletion drops the finalizer', async () => {
  const a = appSet({
    syncPolicy: { preserveResourcesOnDeletion: true },
    templatePatch: 'spec:\n  project: other\n  source:\n    targetRevision: "{{rev}}"\nmetadata:\n  annotations:\n    x: "{{rev}}"\n',
    template: { metadata: { name: 'a-{{rev}}' }, spec: { project: 'default', source: { repoURL: 'r', targetRevision: 'HEAD' } } },
    generators: [{ list: { elements: [{ rev: 'v1' }] } }],
  });
  const [app] = (await generateApplications(fakeContext(a))).applications;
  assert.deepEqual(app!.spec, { project: 'default', source: { repoURL: 'r', targetRevision: 'v1' } });
  assert.deepEqual(app!.metadata.annotations, { x: 'v1' });
  assert.equal(app!.metadata.finalizers, undefined);
});

test("clusterDecisionResource: decisions matched to known clusters by the ConfigMap's matchKey, fields as strings, values", async () => {
  const world = {
    clusters: [{ name: 'eu', server: 'https://eu', labels: {}, annotations: {} }],
    configMaps: {
      'ocm-placement': {
        apiVersion: 'cluster.open-cluster-management.io/v1alpha1',
        kind: 'placementdecisions',
        statusListKey: 'decisions',
        matchKey: 'clusterName',
      },
    },
    resources: {
      placementdecisions: [
        {
          metadata: { name: 'p1' },
          status: { decisions: [{ clusterName: 'eu', reason: 'fits', weight: 2 }, { clusterName: 'unknown' }, { clusterName: 'in-cluster' }] },
        },
        { metadata: { name: 'empty' }, status: {} },
      ],
    },
  };
  const a = appSet({
    generators: [{ clusterDecisionResource: { configMapRef: 'ocm-placement', labelSelector: { matchLabels: { app: 'x' } }, values: { tier: 'gold' } } }],
  });
  assert.deepEqual(await params(a, world), [
    { name: 'eu', server: 'https://eu', clusterName: 'eu', reason: 'fits', weight: '2', 'values.tier': 'gold' },
    { name: 'in-cluster', server: 'https://kubernetes.default.svc', clusterName: 'in-cluster', 'values.tier': 'gold' },
  ]);
  await assert.rejects(params(appSet({ generators: [{ clusterDecisionResource: { configMapRef: 'ocm-placement' } }] }), world), /problem with the definition/);
  await assert.rejects(
    params(appSet({ generators: [{ clusterDecisionResource: { configMapRef: 'missing', name: 'p1' } }] }), world),
    /error reading configMapRef/,
  );
  const none = { ...world, resources: {} };
  await assert.rejects(
    params(appSet({ generators: [{ clusterDecisionResource: { configMapRef: 'ocm-placement', name: 'p1' } }] }), none),
    /no clusterDecisionResources found/,
  );
});

test('plugin: POSTs the input to getparams.execute with the token from the Secret; output parameters flattened', async () => {
  const seen: any[] = [];
  const world = {
    configMaps: { 'my-plugin': { baseUrl: 'http://plugin.local/', token: '$plugin-secret:token', requestTimeout: '10' } },
    secrets: { 'plugin-secret': { token: 's3cret' } },
    plugin: async (r: any) => {
      seen.push(r);
      return { output: { parameters: [{ env: 'dev', cfg: { replicas: 2 } }] } };
    },
  };
  const a = appSet({ generators: [{ plugin: { configMapRef: { name: 'my-plugin' }, input: { parameters: { team: 'a' } }, values: { x: '{{env}}' } } }] });
  assert.deepEqual(await params(a, world), [{ env: 'dev', 'cfg.replicas': '2', generator: { input: { parameters: { team: 'a' } } }, 'values.x': 'dev' }]);
  assert.deepEqual(seen[0], {
    url: 'http://plugin.local/api/v1/getparams.execute',
    token: 's3cret',
    timeoutSeconds: 10,
    body: { applicationSetName: 'set', input: { parameters: { team: 'a' } } },
  });
  await assert.rejects(params(a, { ...world, plugin: undefined }), /error listing params: error get api 'set': connection refused/);
  await assert.rejects(params(a, { ...world, configMaps: { 'my-plugin': { baseUrl: 'http://x', token: 'plain' } } }), /does not reference a secret key/);
});

test("pullRequest: GitHub pages (Link), labels, filters and Argo's parameters; GitLab and Gitea shapes; a 404 fails unless told to continue", async () => {
  const { slugify } = await import('../../domain/applicationsets/generators/pull-request');
  assert.equal(slugify('Feature/My_Branch'), 'feature-my-branch');
  assert.equal(slugify('a'.repeat(30) + '-' + 'b'.repeat(30)), 'a'.repeat(30));
  const pr = (n: number, branch: string, labels: string[]) => ({
    number: n,
    title: `PR ${n}`,
    head: { ref: branch, sha: `abcdef0123456789${n}` },
    base: { ref: 'main' },
    labels: labels.map((name) => ({ name })),
    user: { login: 'dev' },
  });
  const seen: string[] = [];
  const world = {
    secrets: { gh: { token: 't0k' } },
    http: (url: string, headers: Record<string, string>) => {
      seen.push(`${url} ${headers.authorization ?? headers['private-token'] ?? ''}`);
      if (url.includes('page=2')) return { status: 200, body: [pr(3, 'feat/c', ['preview'])] };
      if (url.startsWith('https://api.github.com/repos/org/app/pulls')) {
        return {
          status: 200,
          body: [pr(1, 'Feat/A_x', ['preview']), pr(2, 'fix/b', [])],
          headers: { link: '<https://api.github.com/repos/org/app/pulls?per_page=100&page=2>; rel="next"' },
        };
      }
      if (url.startsWith('https://gitlab.example/api/v4/projects/grp%2Fapp/merge_requests')) {
        return {
          status: 200,
          body: [{ iid: 7, title: 'MR', source_branch: 'feat/x', target_branch: 'main', sha: '1234567890', labels: ['l'], author: { username: 'gl' } }],
        };
      }
      if (url.startsWith('https://gitea.example/api/v1/repos/org/app/pulls?state=open')) return { status: 200, body: [pr(9, 'g', [])] };
      return { status: 404, body: { message: 'Not Found' } };
    },
  };
  const gh = appSet({
    generators: [
      {
        pullRequest: {
          github: { owner: 'org', repo: 'app', tokenRef: { secretName: 'gh', key: 'token' }, labels: ['preview'] },
          filters: [{ branchMatch: '^Feat' }, { titleMatch: '3$' }],
        },
      },
    ],
  });
  assert.deepEqual(await params(gh, world), [
    {
      number: '1',
      title: 'PR 1',
      branch: 'Feat/A_x',
      branch_slug: 'feat-a-x',
      target_branch: 'main',
      target_branch_slug: 'main',
      head_sha: 'abcdef01234567891',
      head_short_sha: 'abcdef01',
      head_short_sha_7: 'abcdef0',
      author: 'dev',
    },
    {
      number: '3',
      title: 'PR 3',
      branch: 'feat/c',
      branch_slug: 'feat-c',
      target_branch: 'main',
      target_branch_slug: 'main',
      head_sha: 'abcdef01234567893',
      head_short_sha: 'abcdef01',
      head_short_sha_7: 'abcdef0',
      author: 'dev',
    },
  ]);
  assert.match(seen[0]!, / Bearer t0k$/);
  const gl = await params(appSet({ generators: [{ pullRequest: { gitlab: { api: 'https://gitlab.example', project: 'grp/app' } } }] }), world);
  assert.deepEqual([gl[0]!.number, gl[0]!.branch, gl[0]!.author, gl[0]!.head_short_sha], ['7', 'feat/x', 'gl', '12345678']);
  const gt = await params(appSet({ generators: [{ pullRequest: { gitea: { api: 'https://gitea.example', owner: 'org', repo: 'app' } } }] }), world);
  assert.deepEqual(
    gt.map((p) => p.number),
    ['9'],
  );
  const missing = { github: { owner: 'org', repo: 'gone' } };
  await assert.rejects(params(appSet({ generators: [{ pullRequest: missing }] }), world), /error listing repos: repository not found/);
  assert.deepEqual(await params(appSet({ generators: [{ pullRequest: { ...missing, continueOnRepoNotFoundError: true } }] }), world), []);
  await assert.rejects(params(appSet({ generators: [{ pullRequest: missing }] }), { ...world, http: undefined }), /connection refused/);
});
