// Applications whose charts come from a Helm repository and an OCI registry rather than git:
// a real Helm repository served on loopback by the test (an HTTP server over `helm package`
// archives and `helm repo index`) behind Basic auth, and Debian's docker-registry holding a
// chart pushed with `helm push`. Each kind syncs and becomes Healthy, the resolved chart
// version is status.sync.revision, a new version matching the constraint is picked up at
// refresh, a git chart's dependency from the authenticated repository builds, $values come
// from git, and bad input (wrong password, broken index) is a ComparisonError that never
// shows the password and keeps what was synced until it is fixed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, startGitOpsSluice, waitForApplication } from '../support/gitops';
import {
  packageChart,
  helmBinary,
  simpleChart,
  startHelmRepository,
  startOciRegistry,
  type HelmRepositoryServer,
  type OciRegistry,
} from '../support/helm-repository';
import { createNamespace, testStack, type TestStack } from '../support/stack';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let stack: TestStack;
let ns: string;
let git: GitFixture;
let repo: HelmRepositoryServer;
let registry: OciRegistry;
let sluice: RunningSluice;

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function repositorySecret(name: string, type: 'repository' | 'repo-creds', data: Record<string, string>) {
  await stack.kube.create(Resources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns, labels: { 'argocd.argoproj.io/secret-type': type } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });
}

function application(name: string, source: Record<string, unknown> | Record<string, unknown>[]) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'default',
      ...(Array.isArray(source) ? { sources: source } : { source }),
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy: { automated: { prune: true } },
    },
  };
}

const healthy = (s: any) => s.sync?.status === 'Synced' && s.health?.status === 'Healthy';

async function refresh(name: string) {
  await stack.kube.patch(Resources.application, ns, name, { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
}

before(async () => {
  process.env.SLUICE_HELM ??= await helmBinary();
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-helm-repo');
  repo = await startHelmRepository();
  await repo.add(simpleChart('web', '1.2.0'));
  await repo.add(simpleChart('web', '2.0.0'));
  registry = await startOciRegistry();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-oci-pkg-'));
  for (const v of ['0.1.0', '0.3.0', '1.0.0']) await registry.push(await packageChart(simpleChart('ociweb', v), out), 'charts');
  fs.rmSync(out, { recursive: true, force: true });
  git = examplesRepo();
  git.commit('helm inputs', {
    'helm-values/web.yaml': 'greeting: from-git\n',
    'umbrella/Chart.yaml': `apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: web\n    version: "~1.2.0"\n    repository: ${repo.url}\n`,
    'umbrella/values.yaml': 'web:\n  greeting: from-umbrella\n',
  });
  await repositorySecret('charts', 'repository', { type: 'helm', name: 'charts', url: repo.url, username: repo.username, password: repo.password });
  await repositorySecret('registry', 'repo-creds', {
    type: 'helm',
    url: `oci://${registry.host}`,
    username: registry.username,
    password: registry.password,
    insecureOCIForceHttp: 'true',
  });
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack?.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  await repo?.stop();
  await registry?.stop();
  git?.remove();
  await stack?.stop();
});

test('a chart from the authenticated Helm repository syncs at the version the constraint picks, and a new version is picked up at refresh', async () => {
  await stack.kube.create(Resources.application, ns, application('web', { repoURL: repo.url, chart: 'web', targetRevision: '1.2.*' }));
  const s = await waitForApplication(stack, ns, 'web', 'Synced and Healthy', healthy, 120_000);
  assert.equal(s.sync.revision, '1.2.0');
  assert.equal(s.sourceType, 'Helm');
  const cm = await stack.kube.get<any>(Resources.configMap, ns, 'web-web');
  assert.deepEqual(cm.data, { chartVersion: '1.2.0', greeting: 'hello' });
  await repo.add(simpleChart('web', '1.2.7'));
  await refresh('web');
  await waitForApplication(stack, ns, 'web', 'at 1.2.7', (st) => healthy(st) && st.sync.revision === '1.2.7', 60_000);
  assert.equal((await stack.kube.get<any>(Resources.configMap, ns, 'web-web')).data.chartVersion, '1.2.7');
});

test('a chart from the OCI registry (helm push, credentials from a repo-creds prefix) syncs and is Healthy', async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('oci', { repoURL: `oci://${registry.host}/charts`, chart: 'ociweb', targetRevision: '>=0.1 <1' }),
  );
  const s = await waitForApplication(stack, ns, 'oci', 'Synced and Healthy', healthy, 120_000);
  assert.equal(s.sync.revision, '0.3.0');
  assert.equal((await stack.kube.get<any>(Resources.configMap, ns, 'oci-ociweb')).data.chartVersion, '0.3.0');
});

test('multiple sources: the chart from the Helm repository, its values file from git', async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('web-values', [
      { repoURL: repo.url, chart: 'web', targetRevision: '2.0.0', helm: { valueFiles: ['$values/helm-values/web.yaml'], skipTests: true } },
      { repoURL: git.url, targetRevision: 'main', ref: 'values' },
    ]),
  );
  const s = await waitForApplication(stack, ns, 'web-values', 'Synced and Healthy', healthy, 120_000);
  assert.equal(s.sync.revisions[0], '2.0.0');
  assert.equal(s.sync.revisions[1], git.head());
  assert.deepEqual((await stack.kube.get<any>(Resources.configMap, ns, 'web-values-web')).data, { chartVersion: '2.0.0', greeting: 'from-git' });
});

test("a chart from git whose dependency lives in the authenticated repository builds with the repository Secret's credentials", async () => {
  await stack.kube.create(Resources.application, ns, application('umbrella', { repoURL: git.url, targetRevision: 'main', path: 'umbrella' }));
  await waitForApplication(stack, ns, 'umbrella', 'Synced and Healthy', healthy, 120_000);
  const cm = await stack.kube.get<any>(Resources.configMap, ns, 'umbrella-web');
  assert.equal(cm.data.greeting, 'from-umbrella');
  assert.match(cm.data.chartVersion, /^1\.2\.\d+$/);
});

test('a wrong password is a ComparisonError naming repository and chart without the password; fixing the Secret recovers', async () => {
  // The same repository under another URL, so that its own Secret applies.
  const other = repo.url.replace(/\/charts$/, '/mirror');
  const wrong = 'wr0ng-passw0rd-shown-nowhere';
  await repositorySecret('charts-wrong', 'repository', { type: 'helm', url: other, username: repo.username, password: wrong });
  await stack.kube.create(Resources.application, ns, application('wrong', { repoURL: other, chart: 'web', targetRevision: '1.2.0' }));
  const s = await waitForApplication(stack, ns, 'wrong', 'a ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'), 60_000);
  const message = s.conditions.find((c: any) => c.type === 'ComparisonError').message;
  assert.match(message, /^spec\.source: chart "web": Helm repository http:\/\/127\.0\.0\.1:\d+\/mirror: fetching index\.yaml failed: HTTP 401/);
  const app = JSON.stringify(await stack.kube.get(Resources.application, ns, 'wrong'));
  const events = JSON.stringify(await stack.kube.list(Resources.event, ns));
  for (const text of [app, events]) {
    assert.ok(!text.includes(wrong), 'the wrong password is shown nowhere');
    assert.ok(!text.includes(repo.password), 'the right one neither');
  }
  await stack.kube.patch(Resources.secret, ns, 'charts-wrong', { data: { password: b64(repo.password) } }, { type: 'merge' });
  await refresh('wrong');
  const fixed = await waitForApplication(stack, ns, 'wrong', 'Synced and Healthy', (st) => healthy(st) && !st.conditions?.length, 60_000);
  assert.equal(fixed.sync.revision, '1.2.0');
});

test('an index that does not parse keeps the last synced state; the repository fixed, the app recovers', async () => {
  const good = fs.readFileSync(path.join(repo.dir, 'index.yaml'), 'utf8');
  repo.breakIndex('apiVersion: v1\nentries: [not, a, mapping\n');
  await refresh('web');
  const s = await waitForApplication(stack, ns, 'web', 'a ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'), 60_000);
  assert.match(
    s.conditions.find((c: any) => c.type === 'ComparisonError').message,
    /chart "web": the index of Helm repository http:\/\/127\.0\.0\.1:\d+\/charts does not parse/,
  );
  assert.equal(s.sync.revision, '1.2.7', 'the last good revision is still shown');
  assert.equal((await stack.kube.get<any>(Resources.configMap, ns, 'web-web')).data.chartVersion, '1.2.7', 'nothing synced away');
  repo.breakIndex(good);
  await refresh('web');
  await waitForApplication(stack, ns, 'web', 'Synced again', (st) => healthy(st) && !st.conditions?.length, 60_000);
  assert.ok((await applicationStatus(stack, ns, 'web')).sync.revision === '1.2.7');
});
