// Sync operations that must end however they go: a hook Job that never finishes fails the
// sync after the hook timeout, terminate stops a sync stuck on an unhealthy wave, an
// Argo-style `operation` written on the Application starts a sync, rollback re-deploys
// an earlier revision from history.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { ApplicationCommands } from '../../api/application-commands';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { startGitOpsSluice, waitForApplication } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';

const HOOK_TIMEOUT_MS = 4000;
let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;
let commands: ApplicationCommands;

// kwok leaves pods with this annotation alone, so they never run and never finish.
const stuckPod = { annotations: { 'kwok.x-k8s.io/status': 'custom' } };

const job = (name: string, annotations: Record<string, string>, podMeta: object = {}) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, annotations },
  spec: { backoffLimit: 0, template: { metadata: podMeta, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
});
const configMap = (name: string, data: Record<string, string>, wave = '0') => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, annotations: { 'argocd.argoproj.io/sync-wave': wave } },
  data,
});
const deployment = (name: string, podMeta: object) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name }, ...podMeta }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  },
});
const json = (o: object) => JSON.stringify(o, null, 2);

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-ops');
  repo = examplesRepo();
  repo.commit('operation fixtures', {
    'stuck-hook/hook.json': json(job('never-finishes', { 'argocd.argoproj.io/hook': 'PreSync' }, stuckPod)),
    'stuck-hook/config.json': json(configMap('after-hook', { a: '1' })),
    'stuck-hook/on-failure.json': json({
      ...configMap('sync-failed-marker', { failed: 'true' }),
      metadata: { name: 'sync-failed-marker', annotations: { 'argocd.argoproj.io/hook': 'SyncFail' } },
    }),
    'stuck-wave/deployment.json': json(deployment('never-ready', stuckPod)),
    'stuck-wave/later.json': json(configMap('later-wave', { a: '1' }, '1')),
    'versions/config.json': json(configMap('versioned', { version: 'one' })),
    'left-running/config.json': json(configMap('resumed', { a: '1' })),
    'cascade/a.json': json(configMap('cascade-a', { a: '1' })),
    'replaced/cm.json': json({
      ...configMap('replaced', { a: '1' }),
      metadata: { name: 'replaced', annotations: { 'argocd.argoproj.io/sync-options': 'Replace=true' } },
    }),
    'cascade/kept.json': json({
      ...configMap('cascade-kept', { a: '1' }),
      metadata: { name: 'cascade-kept', annotations: { 'argocd.argoproj.io/sync-options': 'Delete=false' } },
    }),
  });
  sluice = await startGitOpsSluice(stack, ns, { hookTimeoutMs: HOOK_TIMEOUT_MS });
  commands = new ApplicationCommands(sluice.client);
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

function application(name: string, path: string, automated: boolean) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy: automated ? { automated: { prune: true } } : {},
    },
  };
}

const waitForStatus = (name: string, what: string, ok: (s: any) => boolean, timeoutMs?: number): Promise<any> =>
  waitForApplication(stack, ns, name, what, ok, timeoutMs);

test('a hook Job that never finishes fails the sync after the hook timeout, with a message; the Sync phase never starts; the SyncFail hook runs', async () => {
  const started = Date.now();
  await stack.kube.create(Resources.application, ns, application('stuck-hook', 'stuck-hook', true));
  const s = await waitForStatus('stuck-hook', 'operation Failed', (st) => st.operationState?.phase === 'Failed', 60_000);
  console.log(`failed after ${Date.now() - started} ms: ${s.operationState.message}`);
  assert.match(s.operationState.message, /Job\/never-finishes in namespace .* did not finish within 4s \(hook timeout\)/);
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'after-hook'), undefined, 'the Sync phase ran after a failed PreSync hook');
  const hook = s.operationState.syncResult.resources.find((r: any) => r.name === 'never-finishes');
  assert.equal(hook.hookPhase, 'Failed');
  assert.equal(s.sync.status, 'OutOfSync');
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'sync-failed-marker'), 'the SyncFail hook was created');
});

test('terminate stops a sync waiting on an unhealthy wave: Failed, "Operation terminated", later waves not applied', async () => {
  await stack.kube.create(Resources.application, ns, application('stuck-wave', 'stuck-wave', true));
  await waitForStatus('stuck-wave', 'operation Running', (st) => st.operationState?.phase === 'Running');
  await eventually('the never-ready Deployment exists', () => stack.kube.find(Resources.deployment, ns, 'never-ready'), 20_000);
  const res = await commands.terminate({ namespace: ns, name: 'stuck-wave' });
  assert.match(res.message, /terminating/);
  const s = await waitForStatus('stuck-wave', 'operation Failed', (st) => st.operationState?.phase === 'Failed', 30_000);
  assert.equal(s.operationState.message, 'Operation terminated');
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'later-wave'), undefined);
});

test('an Argo-style operation on the Application starts a sync; rollback deploys an earlier revision from history', async () => {
  const ref = { namespace: ns, name: 'versions' };
  await stack.kube.create(Resources.application, ns, application('versions', 'versions', false));
  await waitForStatus('versions', 'OutOfSync without automated sync', (st) => st.sync?.status === 'OutOfSync');
  await stack.kube.patch(Resources.application, ns, 'versions', { operation: { sync: { prune: true }, initiatedBy: { username: 'alice' } } });
  const first = await waitForStatus('versions', 'Synced by the operation', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded');
  assert.equal(first.operationState.operation.initiatedBy.username, 'alice');
  const app: any = await stack.kube.get(Resources.application, ns, 'versions');
  assert.equal(app.operation, undefined, 'the operation field is cleared once taken');

  const second = repo.commit('version two', { 'versions/config.json': json(configMap('versioned', { version: 'two' })) });
  await commands.sync(ref, {});
  await waitForStatus('versions', `Synced at ${second.slice(0, 7)}`, (st) => st.sync?.revision === second && st.sync?.status === 'Synced');
  assert.equal((await stack.kube.get<any>(Resources.configMap, ns, 'versioned')).data.version, 'two');

  const history = await commands.history(ref);
  assert.deepEqual(
    history.map((h: any) => h.revision),
    [first.sync.revision, second],
  );
  await commands.rollback(ref, history[0].id);
  await eventually(
    'the ConfigMap is back at version one',
    async () => (await stack.kube.get<any>(Resources.configMap, ns, 'versioned')).data.version === 'one',
    30_000,
  );
  const after = await waitForStatus('versions', 'rolled back', (st) => st.history?.length === 3 && st.operationState?.phase === 'Succeeded');
  assert.equal(after.history[2].revision, first.sync.revision);
  assert.equal(after.sync.status, 'OutOfSync', 'after a rollback HEAD differs from the cluster');
  await assert.rejects(commands.rollback(ref, 99), /no history entry 99/);
});

test('an operation the status shows Running that no workflow runs (its task lost with a worker, or left by Argo CD) is resumed under its start', async () => {
  await stack.kube.create(Resources.application, ns, application('left-running', 'left-running', false));
  await waitForStatus('left-running', 'OutOfSync without automated sync', (st) => st.sync?.status === 'OutOfSync');
  const startedAt = '2026-12-05T04:21:16Z';
  const operation = { sync: { prune: true }, initiatedBy: { username: 'alice' } };
  await stack.kube.patch(
    Resources.application,
    ns,
    'left-running',
    { status: { operationState: { operation, phase: 'Running', message: 'syncing', startedAt } } },
    { type: 'merge', subresource: 'status' },
  );
  // A refresh brings a pass (a status change alone does not), which finds the operation nobody runs.
  await stack.kube.patch(Resources.application, ns, 'left-running', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
  const s = await waitForStatus(
    'left-running',
    'the operation resumed and Succeeded',
    (st) => st.operationState?.phase === 'Succeeded' && st.sync?.status === 'Synced',
    60_000,
  );
  assert.equal(s.operationState.startedAt, startedAt, 'under its own start');
  assert.equal(s.operationState.operation.initiatedBy.username, 'alice');
  assert.equal(s.history.length, 1);
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'resumed'), 'its resources applied');
});

test('deleting an Application with the resources finalizer deletes what it manages (except Delete=false), then the Application', async () => {
  const app: any = application('cascade', 'cascade', true);
  app.metadata.finalizers = ['resources-finalizer.argocd.argoproj.io'];
  await stack.kube.create(Resources.application, ns, app);
  await waitForStatus('cascade', 'Synced', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded');
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'cascade-a'));
  await stack.kube.delete(Resources.application, ns, 'cascade');
  await eventually('the Application is gone', async () => (await stack.kube.find(Resources.application, ns, 'cascade')) === undefined, 30_000);
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'cascade-a'), undefined, 'its ConfigMap was deleted first');
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'cascade-kept'), 'Delete=false is kept');
});

test('a CRD and a resource of its kind in one app: the CRD first, the resource once its kind is served', async () => {
  const group = `${ns}.example.com`;
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
  const widget = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'gear' }, spec: { teeth: 12 } };
  repo.commit('a CRD and a widget', { 'crd-app/crd.json': json(crd), 'crd-app/widget.json': json(widget) });
  try {
    await stack.kube.create(Resources.application, ns, application('crd-app', 'crd-app', true));
    const s = await waitForStatus('crd-app', 'Synced', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded', 60_000);
    const live = await stack.kube.get<any>({ group, version: 'v1', plural: 'widgets', namespaced: true }, ns, 'gear');
    assert.equal(live.spec.teeth, 12);
    assert.deepEqual(s.resources.map((r: any) => r.kind).sort(), ['CustomResourceDefinition', 'Widget']);
  } finally {
    await stack.kube.delete(Resources.application, ns, 'crd-app').catch(() => undefined);
    await stack.kube.delete(Resources.crd, undefined, `widgets.${group}`).catch(() => undefined);
  }
});

test('Replace=true: the object is created/replaced (an Update by sluice), not server-side applied', async () => {
  await stack.kube.create(Resources.application, ns, application('replaced', 'replaced', true));
  const s = await waitForStatus('replaced', 'Synced', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded');
  const cm = await stack.kube.get<any>(Resources.configMap, ns, 'replaced');
  const sluiceFields = cm.metadata.managedFields.filter((f: any) => f.manager === 'sluice');
  assert.deepEqual(
    sluiceFields.map((f: any) => f.operation),
    ['Update'],
  );
  assert.match(s.operationState.syncResult.resources[0].message, /configmap\/replaced (created|replaced)/);
});
