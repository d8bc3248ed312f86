// The seed's Image Updater Application end to end, against a real docker-registry and a
// real git repository: Helm source, semver with the X.Y.Z allow-tags regexp, git write-back.
// Pushing 1.0.1, then 1.1.0-rc1 and latest: exactly one commit, to 1.0.1; then 1.2.0: one
// more commit; the manual-sync app shows OutOfSync, and a sync deploys 1.2.0. Then the other
// strategies on Kustomize sources (digest, newest-build, alphabetical) and registries behind
// Basic (htpasswd) and Bearer (a local token service) auth, all on one stack, one Sluice and
// one set of registries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources } from '../../k8s/kube-client';
import { configFromEnv } from '../../worker/config';
import { startSluice, type RunningSluice } from '../../cmd/process';
import { examplesRepo, exampleApplication, type GitFixture } from '../support/git-fixture';
import { describeStatus, waitForApplication } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';
import { startRegistry, type TestRegistry } from '../support/registry';

const CHART_DIR = '2232-build-push-git/deploy/helm/api-tester';
const CHART = {
  [`${CHART_DIR}/Chart.yaml`]: 'apiVersion: v2\nname: api-tester\nversion: 0.1.0\n',
  [`${CHART_DIR}/values.yaml`]: 'image:\n  repository: placeholder\n  tag: 1.0.0\n',
  [`${CHART_DIR}/values-dev.yaml`]: 'replicas: 1\n',
  [`${CHART_DIR}/templates/deployment.yaml`]: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-tester
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: api-tester}
  template:
    metadata:
      labels: {app: api-tester}
    spec:
      containers:
        - name: api-tester
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
`,
};

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let registry: TestRegistry;
let basicRegistry: TestRegistry;
let tokenRegistry: TestRegistry;
let sluice: RunningSluice;
const extraNamespaces: string[] = [];

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'image-updater');
  [registry, basicRegistry, tokenRegistry] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
  repo = examplesRepo();
  repo.commit('api-tester chart', CHART);
  // The write-back pushes to this (non-bare) repository's checked-out branch.
  execFileSync('git', ['config', 'receive.denyCurrentBranch', 'updateInstead'], { cwd: repo.dir });
  const creds = (r: TestRegistry) => Buffer.from(`${r.credentials!.username}:${r.credentials!.password}`).toString('base64');
  await stack.kube.create(Resources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'registry-creds', namespace: ns },
    data: { basic: creds(basicRegistry), token: creds(tokenRegistry) },
  });
  await stack.kube.create(Resources.configMap, ns, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-image-updater-config', namespace: ns },
    data: {
      'registries.conf': [
        'registries:',
        `- name: local\n  prefix: ${registry.host}\n  api_url: ${registry.url}`,
        `- name: basic\n  prefix: ${basicRegistry.host}\n  api_url: ${basicRegistry.url}\n  credentials: secret:${ns}/registry-creds#basic`,
        `- name: token\n  prefix: ${tokenRegistry.host}\n  api_url: ${tokenRegistry.url}\n  credentials: secret:${ns}/registry-creds#token`,
      ].join('\n'),
    },
  });
  process.env.SLUICE_HOME ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-home-'));
  sluice = await startSluice(
    {
      ...configFromEnv({}),
      temporalAddress: stack.temporalAddress,
      taskQueue: `sluice-${ns}`,
      watchNamespace: ns,
      apiPort: 0,
      applicationTimings: { reconcileMs: 5_000, jitterMs: 0 },
      imageUpdates: { intervalMs: 2_000 },
    },
    stack.kube,
    () => undefined,
  );
});

after(async () => {
  await sluice?.stop();
  for (const n of [ns, ...extraNamespaces]) await stack.kube.delete(Resources.namespace, undefined, n).catch(() => undefined);
  repo?.remove();
  await Promise.all([registry?.stop(), basicRegistry?.stop(), tokenRegistry?.stop()]);
  await stack.stop();
});

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.dir, encoding: 'utf8' }).trim();
const updateCommits = (app = '') =>
  git('log', '--format=%s', 'main')
    .split('\n')
    .filter((s) => s.startsWith(`build: automatic update of${app ? ` ${app}` : ''}`));
const readRepoFile = (p: string) => git('show', `main:${p}`);
const P = 'argocd-image-updater.argoproj.io/';
const OVERLAY = 'kustomize-demo/overlays/dev';

/** A manual-sync Application on the dev overlay following one image. */
function kustomizeApp(name: string, annotations: Record<string, string>) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`${P}${k}`, v])) },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path: OVERLAY, kustomize: {} },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    },
  };
}
const overrides = async (name: string): Promise<string[]> =>
  ((await stack.kube.get(Resources.application, ns, name)) as any).spec.source.kustomize?.images ?? [];
const sourceFile = () => path.join(repo.dir, CHART_DIR, '.argocd-source-api-tester-2232-build-push-git.yaml');

test("the seed's Application: one commit for 1.0.1 despite rc and latest, one for 1.2.0, OutOfSync, a manual sync deploys 1.2.0", async () => {
  await registry.push('anotherclass/api-tester', '1.0.0');
  const app = exampleApplication('image-updater/image-updater-annotations.yaml', repo, ns, (a) => {
    a.metadata.annotations['argocd-image-updater.argoproj.io/image-list'] = `api-tester=${registry.host}/anotherclass/api-tester`;
  });
  await stack.kube.create(Resources.application, ns, app);
  const name = app.metadata.name as string;

  await registry.push('anotherclass/api-tester', '1.0.1');
  await eventually('the commit for 1.0.1', async () => updateCommits().length === 1, 60_000, 500);
  assert.match(fs.readFileSync(sourceFile(), 'utf8'), /value: 1\.0\.1/);
  await registry.push('anotherclass/api-tester', '1.1.0-rc1');
  await registry.push('anotherclass/api-tester', 'latest');
  // Several checks at a 2 s interval: still the one commit.
  await new Promise((r) => setTimeout(r, 8_000));
  assert.equal(updateCommits().length, 1);

  await registry.push('anotherclass/api-tester', '1.2.0');
  await eventually('the commit for 1.2.0', async () => updateCommits().length === 2, 60_000, 500);
  assert.match(fs.readFileSync(sourceFile(), 'utf8'), /value: 1\.2\.0/);
  const head = repo.head();

  // Manual sync policy: the new revision shows OutOfSync and nothing is deployed by itself.
  await waitForApplication(stack, ns, name, 'OutOfSync at the new revision', (s) => s.sync?.status === 'OutOfSync' && s.sync?.revision === head, 60_000);
  assert.equal(await stack.kube.find(Resources.deployment, ns, 'api-tester'), undefined);

  await stack.kube.patch(Resources.application, ns, name, { operation: { sync: {}, initiatedBy: { username: 'e2e' } } });
  const s = await waitForApplication(stack, ns, name, 'synced', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded', 90_000);
  const deployment = (await stack.kube.get(Resources.deployment, ns, 'api-tester')) as any;
  assert.equal(deployment.spec.template.spec.containers[0].image, `${registry.host}/anotherclass/api-tester:1.2.0`, describeStatus(s));
  assert.equal(updateCommits().length, 2);
});

test('digest strategy on a Kustomize source with write-back argocd: a re-pushed latest sets the new digest on the Application', async () => {
  const first = await registry.push('team/web', 'latest', { content: 'one' });
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'web-dev',
      namespace: ns,
      annotations: {
        [`${P}image-list`]: `web=${registry.host}/team/web:latest`,
        [`${P}web.update-strategy`]: 'digest',
        [`${P}web.kustomize.image-name`]: 'nginx',
      },
    },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path: 'kustomize-demo/overlays/dev', kustomize: {} },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    },
  });
  const images = async () => ((await stack.kube.get(Resources.application, ns, 'web-dev')) as any).spec.source.kustomize?.images ?? [];
  await eventually('the first digest on the Application', async () => (await images()).includes(`nginx=${registry.host}/team/web@${first}`), 60_000, 500);
  const second = await registry.push('team/web', 'latest', { content: 'two' });
  assert.notEqual(first, second);
  await eventually('the new digest on the Application', async () => (await images()).includes(`nginx=${registry.host}/team/web@${second}`), 60_000, 500);
  assert.deepEqual(await images(), [`nginx=${registry.host}/team/web@${second}`]);
  // Write-back argocd commits nothing.
  assert.equal(updateCommits().length, 2);
  await waitForApplication(stack, ns, 'web-dev', 'OutOfSync (manual sync)', (s) => s.sync?.status === 'OutOfSync', 60_000);
});

test('newest-build on a Kustomize source, git write-back to the kustomization: the most recently built tag, by config created time, not by name', async () => {
  await registry.push('team/api', 'main-zzz', { created: '2026-01-01T00:00:00Z' });
  await registry.push('team/api', 'main-aaa', { created: '2026-01-02T00:00:00Z' });
  await registry.push('team/api', 'latest', { created: '2026-01-05T00:00:00Z' });
  await stack.kube.create(
    Resources.application,
    ns,
    kustomizeApp('api-dev', {
      'image-list': `api=${registry.host}/team/api`,
      'api.update-strategy': 'newest-build',
      'api.allow-tags': 'regexp:^main-',
      'api.kustomize.image-name': 'nginx',
      'write-back-method': 'git',
      'write-back-target': 'kustomization',
    }),
  );
  const kustomization = () => readRepoFile(`${OVERLAY}/kustomization.yaml`);
  await eventually('the commit for main-aaa', async () => updateCommits('api-dev').length === 1, 60_000, 500);
  assert.match(kustomization(), /newTag: main-aaa/);
  assert.match(kustomization(), new RegExp(`newName: ${registry.host}/team/api`));
  await registry.push('team/api', 'main-bbb', { created: '2026-01-03T00:00:00Z' });
  await eventually('the commit for main-bbb', async () => updateCommits('api-dev').length === 2, 60_000, 500);
  assert.match(kustomization(), /newTag: main-bbb/);
  assert.doesNotMatch(kustomization(), /main-aaa|latest/);
});

test('alphabetical on a Kustomize source, git write-back to .argocd-source-<app>.yaml: the last tag by name, whatever its build time', async () => {
  await registry.push('team/docs', 'rel-a', { created: '2026-01-03T00:00:00Z' });
  await registry.push('team/docs', 'rel-c', { created: '2026-01-01T00:00:00Z' });
  await registry.push('team/docs', 'rel-b', { created: '2026-01-02T00:00:00Z' });
  await stack.kube.create(
    Resources.application,
    ns,
    kustomizeApp('docs-dev', {
      'image-list': `docs=${registry.host}/team/docs`,
      'docs.update-strategy': 'name', // the old name of alphabetical
      'docs.kustomize.image-name': 'nginx',
      'write-back-method': 'git',
    }),
  );
  const sourceYaml = () => readRepoFile(`${OVERLAY}/.argocd-source-docs-dev.yaml`);
  await eventually('the commit for rel-c', async () => updateCommits('docs-dev').length === 1, 60_000, 500);
  assert.match(sourceYaml(), new RegExp(`nginx=${registry.host}/team/docs:rel-c`));
  await registry.push('team/docs', 'rel-d', { created: '2025-01-01T00:00:00Z' });
  await eventually('the commit for rel-d', async () => updateCommits('docs-dev').length === 2, 60_000, 500);
  assert.match(sourceYaml(), new RegExp(`nginx=${registry.host}/team/docs:rel-d`));
  await waitForApplication(
    stack,
    ns,
    'docs-dev',
    'OutOfSync at the new revision',
    (s) => s.sync?.status === 'OutOfSync' && s.sync?.revision === repo.head(),
    60_000,
  );
});

test('registries behind Basic (htpasswd) and Bearer (token service) auth, credentials from registries.conf: both followed, no secret in the status', async () => {
  await basicRegistry.push('private/one', '2.0.0');
  await basicRegistry.push('private/one', '2.1.0');
  await tokenRegistry.push('private/two', '3.0.0');
  await tokenRegistry.push('private/two', '3.4.0');
  await stack.kube.create(
    Resources.application,
    ns,
    kustomizeApp('private-dev', {
      'image-list': `one=${basicRegistry.host}/private/one, two=${tokenRegistry.host}/private/two`,
      'one.kustomize.image-name': 'nginx',
      'two.kustomize.image-name': 'busybox',
    }),
  );
  await eventually(
    'both images set on the Application',
    async () => {
      const images = await overrides('private-dev');
      return images.includes(`nginx=${basicRegistry.host}/private/one:2.1.0`) && images.includes(`busybox=${tokenRegistry.host}/private/two:3.4.0`);
    },
    60_000,
    500,
  );
  await tokenRegistry.push('private/two', '3.5.0');
  await eventually(
    'the new Bearer-registry tag',
    async () => (await overrides('private-dev')).includes(`busybox=${tokenRegistry.host}/private/two:3.5.0`),
    60_000,
    500,
  );
  const app = JSON.stringify(await stack.kube.get(Resources.application, ns, 'private-dev'));
  for (const r of [basicRegistry, tokenRegistry]) assert.ok(!app.includes(r.credentials!.password));
});

test('bad input: ImageUpdateError and an Event name the image and cause, the good image is still written, the condition clears when fixed', async () => {
  await registry.push('team/good', '1.0.0');
  await registry.push('team/good', '1.3.0');
  await registry.push('team/bad', '2.0.0');
  const gone = '127.0.0.1:1'; // nothing listens there
  await stack.kube.create(
    Resources.application,
    ns,
    kustomizeApp('mixed-dev', {
      'image-list': `good=${registry.host}/team/good, bad=${registry.host}/team/bad, gone=${gone}/team/gone`,
      'good.kustomize.image-name': 'nginx',
      'bad.kustomize.image-name': 'busybox',
      'bad.allow-tags': 'regexp:[0-9',
      'gone.kustomize.image-name': 'redis',
      'write-back-method': 'git',
    }),
  );
  const conditionOf = async () =>
    (((await stack.kube.get(Resources.application, ns, 'mixed-dev')) as any).status?.conditions ?? []).find((c: any) => c.type === 'ImageUpdateError');
  const cond = await eventually('ImageUpdateError on the Application', conditionOf, 60_000, 500);
  assert.match(cond.message, /image bad: .*allow-tags/);
  assert.match(cond.message, /image gone: /);
  await eventually('the good image committed', async () => updateCommits('mixed-dev').length === 1, 60_000, 500);
  const written = readRepoFile(`${OVERLAY}/.argocd-source-mixed-dev.yaml`);
  assert.match(written, new RegExp(`nginx=${registry.host}/team/good:1\\.3\\.0`));
  assert.doesNotMatch(written, /team\/bad|team\/gone/, 'nothing written for the broken images');
  const events = await eventually(
    'Warning Events for both',
    async () => {
      const { items } = await stack.kube.list(Resources.event, ns);
      const mine = (items as any[]).filter((e) => e.involvedObject?.name === 'mixed-dev' && e.reason === 'ImageUpdateFailed');
      return mine.length >= 2 ? mine : undefined;
    },
    30_000,
    500,
  );
  assert.ok(events.some((e) => /image bad: /.test(e.message)) && events.some((e) => /image gone: /.test(e.message)));
  // The Application's own status write for the new revision keeps the condition.
  const head = repo.head();
  await waitForApplication(stack, ns, 'mixed-dev', 'the status at the new revision', (st) => st.sync?.revision === head, 60_000);
  assert.ok(await conditionOf(), 'kept across status writes');

  // Fixed: the regexp corrected, the unreachable image dropped.
  await stack.kube.patch(Resources.application, ns, 'mixed-dev', {
    metadata: {
      annotations: { [`${P}image-list`]: `good=${registry.host}/team/good, bad=${registry.host}/team/bad`, [`${P}bad.allow-tags`]: 'regexp:^[0-9]' },
    },
  });
  await eventually('the condition cleared', async () => (await conditionOf()) === undefined, 60_000, 500);
  await eventually('the fixed image committed', async () => updateCommits('mixed-dev').length === 2, 60_000, 500);
  assert.match(readRepoFile(`${OVERLAY}/.argocd-source-mixed-dev.yaml`), new RegExp(`busybox=${registry.host}/team/bad:2\\.0\\.0`));
});

test('an ImageUpdater resource selects Applications by name glob and labels, updates them, and reports its status', async () => {
  await registry.push('team/cr', '1.0.0');
  await registry.push('team/cr', '1.1.0');
  for (const [name, team] of [
    ['cr-a-dev', 'a'],
    ['cr-b-dev', 'b'],
  ] as const) {
    const app = kustomizeApp(name, {});
    (app.metadata as any).labels = { team };
    await stack.kube.create(Resources.application, ns, app);
  }
  await stack.kube.create(Resources.imageUpdater, ns, {
    apiVersion: 'argocd-image-updater.argoproj.io/v1alpha1',
    kind: 'ImageUpdater',
    metadata: { name: 'team-a', namespace: ns },
    spec: {
      commonUpdateSettings: { updateStrategy: 'semver' },
      writeBackConfig: { method: 'argocd' },
      applicationRefs: [
        {
          namePattern: 'cr-*',
          labelSelectors: { matchLabels: { team: 'a' } },
          images: [{ alias: 'web', imageName: `${registry.host}/team/cr`, manifestTargets: { kustomize: { name: 'nginx' } } }],
        },
      ],
    },
  });
  const status = async () => ((await stack.kube.get(Resources.imageUpdater, ns, 'team-a')) as any).status ?? {};
  await eventually(
    '1.1.0 set on the selected Application',
    async () => (await overrides('cr-a-dev')).includes(`nginx=${registry.host}/team/cr:1.1.0`),
    60_000,
    500,
  );
  await eventually('the status reports the update', async () => (await status()).recentUpdates?.[0]?.newVersion === '1.1.0', 30_000, 500);
  await registry.push('team/cr', '1.2.0');
  await eventually('1.2.0 set', async () => (await overrides('cr-a-dev')).includes(`nginx=${registry.host}/team/cr:1.2.0`), 60_000, 500);
  const s = await eventually(
    'the status reports 1.2.0',
    async () => ((await status()).recentUpdates?.[0]?.newVersion === '1.2.0' ? status() : undefined),
    30_000,
    500,
  );
  assert.equal(s.applicationsMatched, 1);
  assert.equal(s.imagesManaged, 1);
  assert.deepEqual(
    s.recentUpdates.map((u: any) => [u.alias, u.image, u.newVersion, u.applicationsUpdated]),
    [
      ['web', `${registry.host}/team/cr`, '1.2.0', 1],
      ['web', `${registry.host}/team/cr`, '1.1.0', 1],
    ],
  );
  assert.ok(Date.parse(s.lastCheckedAt) > 0 && Date.parse(s.lastUpdatedAt) > 0);
  assert.equal(s.conditions.find((c: any) => c.type === 'Ready')?.status, 'True');
  assert.deepEqual(await overrides('cr-b-dev'), [], 'the Application of another team is not selected');
});

test('a plain-directory source: the marked image line is rewritten in Git, the other lines and files untouched', async () => {
  await registry.push('team/plain', '0.9.0');
  await registry.push('team/plain', '1.0.0');
  const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: plain-images
data:
  image: ${registry.host}/team/plain:0.9.0 # {"$imagepolicy": "default:plain"}
  tag: "0.9.0" # {"$imagepolicy": "default:plain:tag"}
  unrelated: ${registry.host}/team/plain:0.9.0
`;
  repo.commit('plain manifests', {
    'plain-demo/config.yaml': manifest,
    'plain-demo/other.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-other\n',
  });
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'plain-dev', namespace: ns, annotations: { [`${P}image-list`]: `plain=${registry.host}/team/plain`, [`${P}write-back-method`]: 'git' } },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path: 'plain-demo', directory: { recurse: false } },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    },
  });
  await eventually('the commit for 1.0.0', async () => updateCommits('plain-dev').length === 1, 60_000, 500);
  assert.equal(readRepoFile('plain-demo/config.yaml'), manifest.replace('plain:0.9.0 # {', 'plain:1.0.0 # {').replace('"0.9.0"', '"1.0.0"').trimEnd());
  await registry.push('team/plain', '1.1.0');
  await eventually('the commit for 1.1.0', async () => updateCommits('plain-dev').length === 2, 60_000, 500);
  assert.match(readRepoFile('plain-demo/config.yaml'), new RegExp(`team/plain:1\\.1\\.0 # \\{"\\$imagepolicy": "default:plain"\\}`));
  assert.match(readRepoFile('plain-demo/config.yaml'), new RegExp(`unrelated: ${registry.host}/team/plain:0\\.9\\.0`));
  assert.match(git('log', '-1', '--format=%B', 'main'), /updates image .*team\/plain tag '1\.0\.0' to '1\.1\.0'/);
});

test('two sources (a $values ref source, then a Helm chart), helmvalues:$values target: one commit to the values file, the automated sync deploys it', async () => {
  await registry.push('team/multi', '1.0.0');
  const valuesText = `# values of the two-source app\nimage:\n  repository: ${registry.host}/team/multi\n  tag: 0.9.0\nreplicas: 1\n`;
  repo.commit('multi-source values', { 'multi/values.yaml': valuesText });
  const dest = await createNamespace(stack.kube, 'image-multi');
  extraNamespaces.push(dest);
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'multi-dev',
      namespace: ns,
      annotations: {
        [`${P}image-list`]: `multi=${registry.host}/team/multi`,
        [`${P}multi.helm.image-name`]: 'image.repository',
        [`${P}multi.helm.image-tag`]: 'image.tag',
        [`${P}write-back-method`]: 'git',
        [`${P}write-back-target`]: 'helmvalues:$values/multi/values.yaml',
      },
    },
    spec: {
      project: 'default',
      sources: [
        // First on purpose: the ref-only source lends its files and never takes the update.
        { repoURL: repo.url, targetRevision: 'HEAD', ref: 'values' },
        { repoURL: repo.url, targetRevision: 'HEAD', path: CHART_DIR, helm: { valueFiles: ['$values/multi/values.yaml'] } },
      ],
      destination: { server: 'https://kubernetes.default.svc', namespace: dest },
      syncPolicy: { automated: {} },
    },
  });
  await eventually('the commit for 1.0.0', async () => updateCommits('multi-dev').length === 1, 60_000, 500);
  assert.equal(readRepoFile('multi/values.yaml'), valuesText.replace('tag: 0.9.0', 'tag: 1.0.0').trimEnd(), 'only the tag changed, the comment kept');
  assert.match(git('log', '-1', '--format=%B', 'main'), new RegExp(`updates image ${registry.host}/team/multi tag '0\\.9\\.0' to '1\\.0\\.0'`));
  assert.throws(() => readRepoFile(`${CHART_DIR}/.argocd-source-multi-dev.yaml`), 'no override file in the chart source');
  const image = async () =>
    ((await stack.kube.find(Resources.deployment, dest, 'api-tester')) as any)?.spec?.template?.spec?.containers?.[0]?.image as string | undefined;
  await eventually('the automated sync deploys 1.0.0', async () => (await image()) === `${registry.host}/team/multi:1.0.0`, 90_000, 500);
  await waitForApplication(
    stack,
    ns,
    'multi-dev',
    'Synced at the commit',
    (st) => st.sync?.status === 'Synced' && (st.sync as any)?.revisions?.[1] === repo.head(),
    60_000,
  );
  assert.equal(updateCommits('multi-dev').length, 1, 'the checks since wrote nothing more');
  const app = (await stack.kube.get(Resources.application, ns, 'multi-dev')) as any;
  assert.equal(
    (app.status?.conditions ?? []).find((c: any) => c.type === 'ImageUpdateError'),
    undefined,
  );
  assert.deepEqual(app.spec.sources[0], { repoURL: repo.url, targetRevision: 'HEAD', ref: 'values' }, 'nothing set on the sources');
});
