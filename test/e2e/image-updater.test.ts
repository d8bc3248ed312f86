// The seed's Image Updater Application end to end, against a real docker-registry and a
// real git repository: Helm source, semver with the X.Y.Z allow-tags regexp, git write-back.
// Pushing 1.0.1, then 1.1.0-rc1 and latest: exactly one commit, to 1.0.1; then 1.2.0: one
// more commit; the manual-sync app shows OutOfSync, and a sync deploys 1.2.0.
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
let sluice: RunningSluice;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'image-updater');
  registry = await startRegistry();
  repo = examplesRepo();
  repo.commit('api-tester chart', CHART);
  // The write-back pushes to this (non-bare) repository's checked-out branch.
  execFileSync('git', ['config', 'receive.denyCurrentBranch', 'updateInstead'], { cwd: repo.dir });
  await stack.kube.create(Resources.configMap, ns, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-image-updater-config', namespace: ns },
    data: { 'registries.conf': `registries:\n- name: local\n  prefix: ${registry.host}\n  api_url: ${registry.url}\n` },
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
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await registry?.stop();
  await stack.stop();
});

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.dir, encoding: 'utf8' }).trim();
const updateCommits = () =>
  git('log', '--format=%s', 'main')
    .split('\n')
    .filter((s) => s.startsWith('build: automatic update of'));
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
  const P = 'argocd-image-updater.argoproj.io/';
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
