// Multiple sources (spec.sources[]) on the real stack: a Helm chart from one repository with
// its values from another (a `ref` source), a plain directory source beside it, the
// manifests combined; one revision per source in status and history; a ref source that is
// the same repository at an older commit; bad refs and escaping paths as ComparisonErrors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, describeStatus, startGitOpsSluice } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let charts: GitFixture;
let config: GitFixture;
let sluice: RunningSluice;
let oldCommit: string;

const CHART = {
  'multi-chart/Chart.yaml': 'apiVersion: v2\nname: multi-chart\nversion: 0.1.0\n',
  'multi-chart/values.yaml': 'greeting: from-chart\ntier: default\n',
  'multi-chart/templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
  tier: {{ .Values.tier | quote }}
`,
  'dup-override/settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup-settings\ndata:\n  greeting: from-later-source\n',
  'plain/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-extra\ndata:\n  from: directory-source\n',
};

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-sources');
  charts = examplesRepo();
  oldCommit = charts.commit('chart and an old values file', { ...CHART, 'values/app.yaml': 'greeting: from-old-commit\n' });
  charts.commit('newer values file', { 'values/app.yaml': 'greeting: from-new-commit\n' });
  config = examplesRepo();
  config.commit('prod values', { 'env/prod/values.yaml': 'greeting: from-config-repo\ntier: prod\n' });
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  charts?.remove();
  config?.remove();
  await stack.stop();
});

function application(name: string, sources: unknown[]): any {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: { project: 'default', sources, destination: { server: 'https://kubernetes.default.svc', namespace: ns }, syncPolicy: { automated: { prune: true } } },
  };
}

async function syncedAndHealthy(name: string, extra: (s: any) => boolean = () => true): Promise<any> {
  return eventually(
    `${name} is Synced and Healthy`,
    async () => {
      const s = await applicationStatus(stack, ns, name);
      return s.sync?.status === 'Synced' && s.health?.status === 'Healthy' && extra(s) ? s : undefined;
    },
    120_000,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, name))}`);
  });
}

test('a chart with $values from another repository and a directory source render together, one revision per source', async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('multi', [
      { repoURL: charts.url, targetRevision: 'main', path: 'multi-chart', helm: { valueFiles: ['$values/env/prod/values.yaml'] } },
      { repoURL: config.url, targetRevision: 'main', ref: 'values' },
      { repoURL: charts.url, targetRevision: 'main', path: 'plain' },
    ]),
  );
  const status = await syncedAndHealthy('multi', (s) => (s.history ?? []).length > 0);
  const cm = await stack.kube.get<any>(Resources.configMap, ns, 'multi-settings');
  assert.deepEqual(cm.data, { greeting: 'from-config-repo', tier: 'prod' }, 'values from the ref source in the other repository');
  const extra = await stack.kube.get<any>(Resources.configMap, ns, 'plain-extra');
  assert.equal(extra.data.from, 'directory-source');
  assert.deepEqual(status.sync.revisions, [charts.head(), config.head(), charts.head()]);
  assert.equal(status.sync.revision, undefined);
  assert.deepEqual(status.sourceTypes, ['Helm', 'Directory']);
  assert.deepEqual(status.resources.map((r: any) => `${r.kind}/${r.name}:${r.status}`).sort(), [
    'ConfigMap/multi-settings:Synced',
    'ConfigMap/plain-extra:Synced',
  ]);
  const last = status.history.at(-1);
  assert.deepEqual(last.revisions, [charts.head(), config.head(), charts.head()]);
  assert.equal(last.sources.length, 3);
  assert.equal(last.source, undefined);
  assert.deepEqual(status.operationState.syncResult.revisions, [charts.head(), config.head(), charts.head()]);

  // A change in the values repository alone is a new revision of the app: automated sync follows.
  const next = config.commit('prod greeting', { 'env/prod/values.yaml': 'greeting: changed-in-config\ntier: prod\n' });
  await stack.kube.patch(Resources.application, ns, 'multi', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } }, { type: 'merge' });
  const after = await syncedAndHealthy('multi', (s) => s.sync?.revisions?.[1] === next && s.history?.at(-1)?.revisions?.[1] === next);
  assert.equal((await stack.kube.get<any>(Resources.configMap, ns, 'multi-settings')).data.greeting, 'changed-in-config');
  assert.equal(after.history.length, status.history.length + 1);
});

test('a ref source may be the same repository at another revision', async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('same-repo', [
      { repoURL: charts.url, targetRevision: 'HEAD', path: 'multi-chart', helm: { valueFiles: ['$old/values/app.yaml'] } },
      { repoURL: charts.url, targetRevision: oldCommit, ref: 'old' },
    ]),
  );
  const status = await syncedAndHealthy('same-repo');
  assert.equal((await stack.kube.get<any>(Resources.configMap, ns, 'same-repo-settings')).data.greeting, 'from-old-commit');
  assert.deepEqual(status.sync.revisions, [charts.head(), oldCommit]);
});

test("an unknown $ref and a path leaving the ref'd repository are ComparisonErrors; nothing is deployed", async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('bad-ref', [
      { repoURL: charts.url, path: 'multi-chart', helm: { valueFiles: ['$vaules/env/prod/values.yaml'] } },
      { repoURL: config.url, ref: 'values' },
    ]),
  );
  await stack.kube.create(
    Resources.application,
    ns,
    application('escape-ref', [
      { repoURL: charts.url, path: 'multi-chart', helm: { valueFiles: ['$values/../../../../etc/passwd'] } },
      { repoURL: config.url, ref: 'values' },
    ]),
  );
  const condition = (name: string) =>
    eventually(
      `${name} has a ComparisonError`,
      async () => {
        const s = await applicationStatus(stack, ns, name);
        return s.conditions?.find((c: any) => c.type === 'ComparisonError');
      },
      60_000,
      300,
    );
  assert.match(
    (await condition('bad-ref')).message,
    /spec\.sources\[0\]\.helm\.valueFiles "\$vaules\/env\/prod\/values\.yaml" references \$vaules, but no source has ref: vaules \(declared: \$values\)/,
  );
  assert.match((await condition('escape-ref')).message, /spec\.sources\[0\]\.helm\.valueFiles .*leaves the repository/);
  // A chart from a Helm repository that cannot be reached: named with the source, not fetched with git.
  await stack.kube.create(
    Resources.application,
    ns,
    application('helm-repo', [
      { repoURL: 'https://charts.example.com', chart: 'nginx', targetRevision: '1.0.0', helm: { valueFiles: ['$values/env/prod/values.yaml'] } },
      { repoURL: config.url, ref: 'values' },
    ]),
  );
  assert.match(
    (await condition('helm-repo')).message,
    /spec\.sources\[0\]: chart "nginx": Helm repository https:\/\/charts\.example\.com: fetching index\.yaml failed/,
  );
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'bad-ref-settings'), undefined);
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'escape-ref-settings'), undefined);
});

test('an object two sources render is kept once, from the later source', async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('dup', [
      { repoURL: charts.url, targetRevision: 'main', path: 'multi-chart' },
      { repoURL: charts.url, targetRevision: 'main', path: 'dup-override' },
    ]),
  );
  const status = await syncedAndHealthy('dup');
  assert.deepEqual(
    status.resources.map((r: any) => `${r.kind}/${r.name}`),
    ['ConfigMap/dup-settings'],
  );
  assert.deepEqual((await stack.kube.get<any>(Resources.configMap, ns, 'dup-settings')).data, { greeting: 'from-later-source' });
});
