// Applications from a real git repository on this machine (file://): kustomize overlays,
// a new commit synced after a refresh, selfHeal, prune, and the bad inputs and faults —
// invalid YAML, a refused ext:: URL, an escaping path, the remote gone and back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { startGitOpsSluice, waitForApplication } from '../support/gitops';
import { createNamespace, eventually, kubectl, testStack, type TestStack } from '../support/stack';
import { ApplicationCommands } from '../../api/application-commands';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;
const overlaysInTestNamespace = (p: string, text: string) =>
  p.startsWith('kustomize-demo/overlays/') ? text.replace(/^namespace: .*$/m, `namespace: ${ns}`) : text;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops');
  // The overlays name namespaces dev/staging/prod; here they all land in the test's namespace.
  repo = examplesRepo(overlaysInTestNamespace);
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

function application(
  name: string,
  source: Record<string, unknown>,
  syncPolicy: Record<string, unknown> = { automated: { prune: true, selfHeal: true } },
  repoURL = repo.url,
) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'default',
      source: { repoURL, targetRevision: 'HEAD', ...source },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy,
    },
  };
}

const waitForStatus = (name: string, what: string, ok: (s: any) => boolean, timeoutMs?: number): Promise<any> =>
  waitForApplication(stack, ns, name, what, ok, timeoutMs);

const syncedHealthy = (s: any) => s.sync?.status === 'Synced' && s.health?.status === 'Healthy' && s.operationState?.phase === 'Succeeded';

async function refresh(name: string, kind: 'normal' | 'hard' = 'normal') {
  await stack.kube.patch(Resources.application, ns, name, { metadata: { annotations: { 'argocd.argoproj.io/refresh': kind } } });
}

test('kustomize-demo overlays render with kustomize and sync: dev 1, staging 2, prod 3 replicas with the prod patch', async () => {
  for (const env of ['dev', 'staging', 'prod']) {
    await stack.kube.create(Resources.application, ns, application(`myapp-${env}`, { path: `kustomize-demo/overlays/${env}` }));
  }
  for (const env of ['dev', 'staging', 'prod']) await waitForStatus(`myapp-${env}`, 'Synced and Healthy', syncedHealthy, 120_000);
  const replicas: Record<string, number> = {};
  for (const env of ['dev', 'staging', 'prod']) {
    const d = await stack.kube.get(Resources.deployment, ns, `${env}-myapp`);
    replicas[env] = d.spec.replicas;
    assert.equal(d.metadata.labels?.env, env);
    assert.equal(d.spec.selector.matchLabels.env, env);
  }
  assert.deepEqual(replicas, { dev: 1, staging: 2, prod: 3 });
  const prod = await stack.kube.get(Resources.deployment, ns, 'prod-myapp');
  assert.deepEqual(prod.spec.template.spec.containers[0].resources, { requests: { memory: '128Mi', cpu: '200m' }, limits: { memory: '256Mi', cpu: '500m' } });
  console.log('kustomize overlays:', JSON.stringify(replicas));
});

test("the Application kustomize options are applied as kustomize edit does: namePrefix replaces the overlay's, images, commonLabels, replicas", async () => {
  await stack.kube.create(
    Resources.application,
    ns,
    application('myapp-custom', {
      path: 'kustomize-demo/overlays/dev',
      kustomize: { namePrefix: 'custom-', images: ['nginx=nginx:1.27.0'], commonLabels: { team: 'a' }, replicas: [{ name: 'myapp', count: 2 }] },
    }),
  );
  await waitForStatus('myapp-custom', 'Synced and Healthy', syncedHealthy, 90_000);
  const d = await stack.kube.get(Resources.deployment, ns, 'custom-myapp');
  assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27.0');
  assert.equal(d.metadata.labels?.team, 'a');
  assert.equal(d.spec.replicas, 2);
});

test('a commit that changes an image is synced after a refresh; a manual edit is reverted by selfHeal', async () => {
  await stack.kube.create(Resources.application, ns, application('frontend', { path: 'apps/frontend' }));
  const first = await waitForStatus('frontend', 'Synced and Healthy', syncedHealthy);
  assert.equal(first.sync.revision, repo.head());

  const text = fs.readFileSync(`${repo.dir}/apps/frontend/deployment.yaml`, 'utf8');
  const sha = repo.commit('frontend: nginx 1.27.0', { 'apps/frontend/deployment.yaml': text.replace('nginx:1.26.1', 'nginx:1.27.0') });
  const committedAt = Date.now();
  await refresh('frontend');
  await eventually(
    'the Deployment runs the committed image',
    async () => (await stack.kube.get(Resources.deployment, ns, 'frontend')).spec.template.spec.containers[0].image === 'nginx:1.27.0',
    30_000,
    200,
  );
  console.log(`image change synced ${Date.now() - committedAt} ms after commit + refresh`);
  const second = await waitForStatus('frontend', `Synced at ${sha.slice(0, 7)}`, (s) => syncedHealthy(s) && s.sync.revision === sha);
  assert.deepEqual(
    second.history.map((h: any) => h.revision),
    [first.sync.revision, sha],
  );

  await kubectl(stack, ['-n', ns, 'set', 'image', 'deployment/frontend', 'frontend=nginx:9.9.9']);
  const editedAt = Date.now();
  await eventually(
    'selfHeal reverts the manual image edit',
    async () => (await stack.kube.get(Resources.deployment, ns, 'frontend')).spec.template.spec.containers[0].image === 'nginx:1.27.0',
    40_000,
    200,
  );
  console.log(`manual edit reverted after ${Date.now() - editedAt} ms`);
  await waitForStatus('frontend', 'Synced again', syncedHealthy);
});

test('prune: a file removed from Git deletes its resource', async () => {
  await stack.kube.create(Resources.application, ns, application('monorepo', { path: 'apps', directory: { recurse: true, include: '{backend,database}/*' } }));
  await waitForStatus('monorepo', 'Synced and Healthy', syncedHealthy, 90_000);
  assert.ok(await stack.kube.find(Resources.deployment, ns, 'database'));
  const sha = repo.commit('drop the database', { 'apps/database/deployment.yaml': null });
  await refresh('monorepo');
  await eventually('the database Deployment is pruned', async () => (await stack.kube.find(Resources.deployment, ns, 'database')) === undefined, 30_000, 200);
  const s = await waitForStatus('monorepo', `Synced at ${sha.slice(0, 7)}`, (st) => syncedHealthy(st) && st.sync.revision === sha);
  assert.ok(s.operationState.syncResult.resources.some((r: any) => r.name === 'database' && r.status === 'Pruned'));
  assert.ok(await stack.kube.find(Resources.deployment, ns, 'backend'), 'backend stays');
});

test('invalid YAML in Git is a ComparisonError naming the file and line', async () => {
  repo.commit('a broken manifest', { 'broken/bad.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  key: [unclosed\n' });
  await stack.kube.create(Resources.application, ns, application('broken', { path: 'broken' }));
  const s = await waitForStatus('broken', 'ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'));
  const message = s.conditions[0].message as string;
  console.log('ComparisonError:', message);
  assert.match(message, /broken\/bad\.yaml: line \d+: invalid YAML/);
  assert.equal(s.sync.status, 'Unknown');
});

test('an ext:: repoURL and a path leaving the repository are refused without running anything', async () => {
  const marker = `/tmp/sluice-ext-${process.pid}`;
  await stack.kube.create(Resources.application, ns, application('evil-url', { path: '.' }, undefined, `ext::sh -c touch% ${marker}`));
  await stack.kube.create(Resources.application, ns, application('evil-path', { path: '../..' }));
  const url = await waitForStatus('evil-url', 'ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'));
  assert.match(url.conditions[0].message, /repoURL .*refused/);
  const p = await waitForStatus('evil-path', 'ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'));
  assert.match(p.conditions[0].message, /spec\.source\.path "\.\.\/\.\." leaves the repository/);
  assert.equal(fs.existsSync(marker), false, 'the ext:: command ran');
  console.log('refused:', url.conditions[0].message, '|', p.conditions[0].message);
});

test('the git remote gone: ComparisonError, the last synced state is kept, and it recovers when the remote returns', async () => {
  const remote = examplesRepo(overlaysInTestNamespace);
  try {
    await stack.kube.create(
      Resources.application,
      ns,
      application('remote', { path: 'kustomize-demo/overlays/dev', kustomize: { namePrefix: 'remote-' } }, { automated: { prune: true } }, remote.url),
    );
    const synced = await waitForStatus('remote', 'Synced', syncedHealthy, 90_000);
    fs.renameSync(remote.dir, `${remote.dir}.away`);
    await refresh('remote', 'hard');
    const failing = await waitForStatus('remote', 'ComparisonError', (st) => st.conditions?.some((c: any) => c.type === 'ComparisonError'));
    console.log('remote gone:', failing.conditions[0].message);
    assert.equal(failing.sync.revision, synced.sync.revision, 'the last synced revision is kept');
    assert.ok(failing.resources.length > 0, 'the last known resources are kept');
    assert.equal(failing.sync.status, 'Unknown');
    fs.renameSync(`${remote.dir}.away`, remote.dir);
    await refresh('remote');
    const back = await waitForStatus('remote', 'recovered', (st) => !st.conditions?.length && st.sync?.status === 'Synced');
    assert.equal(back.sync.revision, synced.sync.revision);
  } finally {
    if (fs.existsSync(`${remote.dir}.away`)) fs.renameSync(`${remote.dir}.away`, remote.dir);
    remote.remove();
  }
});

test('commands: diff shows a readable diff of drift, history lists syncs, sync with a validator', async () => {
  const commands = new ApplicationCommands(sluice.client);
  const ref = { namespace: ns, name: 'manual' };
  await stack.kube.create(
    Resources.application,
    ns,
    application('manual', { path: 'kustomize-demo/overlays/staging', kustomize: { namePrefix: 'manual-' } }, {}),
  );
  await waitForStatus('manual', 'OutOfSync (no automated sync)', (s) => s.sync?.status === 'OutOfSync');
  const before = await commands.diff(ref);
  assert.match(before, /\+\+\+ apps\/Deployment\/.*\/manual-myapp \(git\)\n@@ -0,0 \+1,\d+ @@\n\+apiVersion: apps\/v1/);
  await commands.sync(ref, { prune: true });
  await waitForStatus('manual', 'Synced after a manual sync', syncedHealthy, 60_000);
  assert.equal(await commands.diff(ref), '');
  const history = await commands.history(ref);
  assert.equal(history.length, 1);
  assert.equal(history[0].initiatedBy.username, 'sluice-api');
  await assert.rejects(commands.terminate(ref), /no operation in progress/);
});
