// What may stop or shape a sync, on the real stack: AppProject syncWindows (automated
// syncs held with the window named on operationState, manual syncs refused 403 through the
// API and the CLI unless the window has manualSync, an unparsable schedule refused with
// the reason), orphanedResources.warn, Validate=false, Prune=confirm waiting for
// `sluice app confirm-deletion`, and ignoreDifferences jqPathExpressions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { ApplicationCommands } from '../../api/application-commands';
import { ensureAdminToken } from '../support/api-token';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, startGitOpsSluice, waitForApplication } from '../support/gitops';
import { cliPath } from '../support/paths';
import { createNamespace, eventually, runCommand, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let orphanNs: string;
let repo: GitFixture;
let sluice: RunningSluice;
let commands: ApplicationCommands;
let token: string;

const json = (o: object) => JSON.stringify(o, null, 2);
const configMap = (name: string, data: Record<string, string>, annotations: Record<string, string> = {}, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, annotations },
  data,
  ...extra,
});
const deployment = (sidecarImage: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'jq-web' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'jq-web' } },
    template: {
      metadata: { labels: { app: 'jq-web' } },
      spec: {
        containers: [
          { name: 'app', image: 'nginx:1' },
          { name: 'sidecar', image: sidecarImage },
        ],
      },
    },
  },
});
// Every minute, for an hour: always active.
const always = { schedule: '* * * * *', duration: '1h' };

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-gates');
  orphanNs = await createNamespace(stack.kube, 'gitops-orphans');
  repo = examplesRepo();
  repo.commit('gate fixtures', {
    'windowed/cm.json': json(configMap('windowed', { a: '1' })),
    'manual-window/cm.json': json(configMap('manual-window', { a: '1' })),
    'orphans/cm.json': json(configMap('managed', { a: '1' })),
    'unknown-field/cm.json': json(configMap('unknown-field', { a: '1' }, {}, { spec: { notAConfigMapField: true } })),
    'confirm/guarded.json': json(configMap('guarded', { a: '1' }, { 'argocd.argoproj.io/sync-options': 'Prune=confirm' })),
    'confirm/plain.json': json(configMap('plain', { a: '1' })),
    'jq/deploy.json': json(deployment('sidecar:1')),
  });
  await stack.kube.create(Resources.appProject, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'gated', namespace: ns },
    spec: {
      sourceRepos: ['*'],
      destinations: [{ server: '*', namespace: '*' }],
      syncWindows: [
        { kind: 'deny', ...always, applications: ['windowed-*'] },
        { kind: 'deny', ...always, applications: ['manual-*'], manualSync: true },
        { kind: 'deny', schedule: '0 25 * * *', duration: '1h', applications: ['broken-*'] },
      ],
      orphanedResources: { warn: true },
    },
  });
  token = await ensureAdminToken(stack.kube);
  sluice = await startGitOpsSluice(stack, ns);
  commands = new ApplicationCommands(sluice.client);
});

after(async () => {
  await sluice?.stop();
  for (const n of [ns, orphanNs]) await stack.kube.delete(Resources.namespace, undefined, n).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

function application(
  name: string,
  path: string,
  opts: { automated?: boolean; project?: string; namespace?: string; syncOptions?: string[]; ignoreDifferences?: object[] } = {},
) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: opts.project ?? 'gated',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path },
      destination: { server: 'https://kubernetes.default.svc', namespace: opts.namespace ?? ns },
      syncPolicy: { ...(opts.automated ? { automated: { prune: true } } : {}), ...(opts.syncOptions ? { syncOptions: opts.syncOptions } : {}) },
      ...(opts.ignoreDifferences ? { ignoreDifferences: opts.ignoreDifferences } : {}),
    },
  };
}

const waitForStatus = (name: string, what: string, ok: (s: any) => boolean, timeoutMs?: number): Promise<any> =>
  waitForApplication(stack, ns, name, what, ok, timeoutMs);

const api = async (method: string, path: string, body?: object) => {
  const res = await fetch(`${sluice.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
};
const cli = (...args: string[]) => runCommand(process.execPath, [cliPath, '--server', sluice.apiUrl, '--token', token, ...args]);

test('sync windows: an automated sync is held with the window named; a manual sync is refused 403 unless the window has manualSync; a bad schedule is refused with the reason', async () => {
  await stack.kube.create(Resources.application, ns, application('windowed-auto', 'windowed', { automated: true }));
  const held = await waitForStatus('windowed-auto', 'held by the deny window', (st) => /blocked by sync window/.test(st.operationState?.message ?? ''));
  console.log('automated:', held.operationState.message);
  assert.equal(held.operationState.message, "Sync operation blocked by sync window: deny window '* * * * *' for 1h on applications windowed-* is active");
  assert.equal(held.operationState.phase, 'Running');
  assert.equal(held.sync.status, 'OutOfSync');
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'windowed'), undefined, 'nothing applied');

  await stack.kube.create(Resources.application, ns, application('windowed-manual', 'windowed'));
  await waitForStatus('windowed-manual', 'compared', (st) => st.sync?.status === 'OutOfSync');
  const refused = await api('POST', `/api/v1/namespaces/${ns}/applications/windowed-manual/sync`, {});
  console.log('manual:', refused.status, refused.body);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'PermissionDenied');
  assert.equal(
    refused.body.message,
    `application ${ns}/windowed-manual: cannot sync: blocked by sync window: deny window '* * * * *' for 1h on applications windowed-* is active`,
  );
  const fromCli = await cli('app', 'sync', 'windowed-manual', '-n', ns);
  assert.equal(fromCli.code, 4);
  assert.match(fromCli.stderr, /cannot sync: blocked by sync window: deny window/);
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'windowed'), undefined, 'nothing applied');
  // An Argo-style operation written with kubectl is held the same way, not dropped.
  await stack.kube.patch(Resources.application, ns, 'windowed-manual', { operation: { sync: {}, initiatedBy: { username: 'alice' } } });
  const heldOp = await waitForStatus('windowed-manual', 'the kubectl operation held', (st) => /blocked by sync window/.test(st.operationState?.message ?? ''));
  assert.equal(heldOp.operationState.message, "Sync operation blocked by sync window: deny window '* * * * *' for 1h on applications windowed-* is active");
  assert.equal(heldOp.operationState.operation.initiatedBy.username, 'alice');
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'windowed'), undefined, 'nothing applied');

  // manualSync: true lets a person through the same kind of window; automated syncs stay held.
  await stack.kube.create(Resources.application, ns, application('manual-ok', 'manual-window'));
  await waitForStatus('manual-ok', 'compared', (st) => st.sync?.status === 'OutOfSync');
  const allowed = await cli('app', 'sync', 'manual-ok', '-n', ns);
  assert.equal(allowed.code, 0, allowed.stderr);
  await waitForStatus('manual-ok', 'Synced by the manual sync', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded');
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'manual-window'));

  await stack.kube.create(Resources.application, ns, application('broken-window', 'windowed'));
  await waitForStatus('broken-window', 'compared', (st) => st.sync?.status === 'OutOfSync');
  const broken = await api('POST', `/api/v1/namespaces/${ns}/applications/broken-window/sync`, {});
  assert.equal(broken.status, 403);
  assert.match(
    broken.body.message,
    /cannot sync: blocked by sync window: invalid sync windows: cannot parse schedule '0 25 \* \* \*': end of range \(25\) above maximum \(23\)/,
  );
});

test('orphanedResources.warn: an object nobody manages in the destination namespace is an OrphanedResourceWarning', async () => {
  await stack.kube.create(Resources.configMap, orphanNs, configMap('stray', { by: 'hand' }));
  await stack.kube.create(Resources.application, ns, application('orphans', 'orphans', { automated: true, namespace: orphanNs }));
  const s = await waitForStatus(
    'orphans',
    'the orphan warning',
    (st) => st.sync?.status === 'Synced' && st.conditions?.some((c: any) => c.type === 'OrphanedResourceWarning'),
  );
  assert.deepEqual(s.conditions, [{ type: 'OrphanedResourceWarning', message: 'Application has 1 orphaned resources' }]);
  await stack.kube.delete(Resources.configMap, orphanNs, 'stray');
  await commands.refresh({ namespace: ns, name: 'orphans' });
  await waitForStatus('orphans', 'no warning once the stray object is gone', (st) => !st.conditions);
});

test('Validate=false: a manifest with a field its kind does not have is refused by default and applied with Validate=false', async () => {
  await stack.kube.create(Resources.application, ns, application('strict', 'unknown-field', { automated: true, project: 'default' }));
  const failed = await waitForStatus('strict', 'sync Failed', (st) => st.operationState?.phase === 'Failed');
  console.log('strict:', failed.operationState.message);
  assert.match(failed.operationState.message, /ConfigMap\/unknown-field: .*\.spec: field not declared in schema/);
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'unknown-field'), undefined);

  await stack.kube.delete(Resources.application, ns, 'strict');
  await eventually('strict is gone', async () => !(await stack.kube.find(Resources.application, ns, 'strict')), 30_000);
  await stack.kube.create(
    Resources.application,
    ns,
    application('lenient', 'unknown-field', { automated: true, project: 'default', syncOptions: ['Validate=false'] }),
  );
  await waitForStatus('lenient', 'sync Succeeded', (st) => st.operationState?.phase === 'Succeeded');
  const cm = await stack.kube.get<any>(Resources.configMap, ns, 'unknown-field');
  assert.deepEqual(cm.data, { a: '1' });
  assert.equal(cm.spec, undefined, 'the unknown field was dropped, not stored');
});

test('Prune=confirm: the sync waits, saying for what, until `sluice app confirm-deletion`; then it prunes', async () => {
  const ref = { namespace: ns, name: 'confirm' };
  await stack.kube.create(Resources.application, ns, application('confirm', 'confirm', { project: 'default' }));
  await waitForStatus('confirm', 'compared', (st) => st.sync?.status === 'OutOfSync');
  await commands.sync(ref, {});
  await waitForStatus('confirm', 'Synced', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded');

  repo.commit('drop both, add one', { 'confirm/guarded.json': null, 'confirm/plain.json': null, 'confirm/third.json': json(configMap('third', { a: '1' })) });
  await commands.refresh(ref);
  await waitForStatus('confirm', 'OutOfSync at the new commit', (st) => st.sync?.revision === repo.head() && st.sync?.status === 'OutOfSync');
  await commands.sync(ref, { prune: true });
  const waiting = await waitForStatus('confirm', 'waiting for confirmation', (st) => /pruning confirmation/.test(st.operationState?.message ?? ''));
  assert.equal(waiting.operationState.phase, 'Running');
  assert.equal(waiting.operationState.message, 'Waiting for pruning confirmation of v1/ConfigMap/guarded');
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'guarded'), 'not pruned before confirmation');
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'plain'), 'nothing of the operation ran before confirmation');
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'third'), undefined);

  const confirmed = await cli('app', 'confirm-deletion', 'confirm', '-n', ns);
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.match(confirmed.stdout, /deletion approved at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  const app: any = await stack.kube.get(Resources.application, ns, 'confirm');
  assert.match(app.metadata.annotations['argocd.argoproj.io/deletion-approved'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await waitForStatus('confirm', 'Succeeded after confirmation', (st) => st.operationState?.phase === 'Succeeded' && st.sync?.status === 'Synced');
  await eventually(
    'both pruned',
    async () => !(await stack.kube.find(Resources.configMap, ns, 'guarded')) && !(await stack.kube.find(Resources.configMap, ns, 'plain')),
    30_000,
  );
  assert.ok(await stack.kube.find(Resources.configMap, ns, 'third'));
});

test('jqPathExpressions: a field a jq path selects is ignored in the comparison; others still count; a bad expression is a ComparisonError', async () => {
  const ref = { namespace: ns, name: 'jq' };
  const ignore = [{ group: 'apps', kind: 'Deployment', jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "sidecar") | .image'] }];
  await stack.kube.create(Resources.application, ns, application('jq', 'jq', { project: 'default', ignoreDifferences: ignore }));
  await waitForStatus('jq', 'compared', (st) => st.sync?.status === 'OutOfSync');
  await commands.sync(ref, {});
  await waitForStatus('jq', 'Synced', (st) => st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded');

  const setImage = (index: number, image: string) =>
    stack.kube.patch(Resources.deployment, ns, 'jq-web', [{ op: 'replace', path: `/spec/template/spec/containers/${index}/image`, value: image }], {
      type: 'json',
    });
  await setImage(1, 'sidecar:2');
  const before = (await applicationStatus(stack, ns, 'jq')).reconciledAt;
  await commands.refresh(ref);
  const after = await waitForStatus('jq', 'compared again', (st) => st.reconciledAt !== before);
  assert.equal(after.sync.status, 'Synced', 'the sidecar image is ignored');

  await setImage(0, 'nginx:2');
  await commands.refresh(ref);
  await waitForStatus('jq', 'OutOfSync on the app image', (st) => st.sync?.status === 'OutOfSync');

  await stack.kube.patch(Resources.application, ns, 'jq', {
    spec: { ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jqPathExpressions: ['.spec.template.spec.containers['] }] },
  });
  const bad = await waitForStatus('jq', 'ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'));
  assert.match(bad.conditions[0].message, /ignoreDifferences jqPathExpressions "\.spec\.template\.spec\.containers\[": invalid query/);
});
