// sync-waves-demo from a real git repository: the PreSync Job runs first, then waves 0..4
// in order, each only after the previous wave is healthy, then the PostSync Job; hooks
// with HookSucceeded are gone afterwards. The order is recorded from the API server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, type KubeObject, type ResourceRef } from '../../k8s/kube-client';
import { assessHealth } from '../../domain/health';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';
import { exampleApplication, examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, describeStatus, startGitOpsSluice } from '../support/gitops';
import type { RunningSluice } from '../../cmd/process';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice | undefined;
const watches = new AbortController();

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'waves');
  // The demo's objects name namespace sync-demo; this test owns its own namespace instead.
  repo = examplesRepo((p, text) => (p.startsWith('sync-waves-demo/') ? text.replace(/sync-demo/g, ns) : text));
});

after(async () => {
  watches.abort();
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

interface Seen {
  at: number;
  what: string;
}

test('sync-waves-demo: PreSync hook, waves 0..4 each after the previous is healthy, PostSync hook, hooks deleted', async () => {
  const created: Seen[] = [];
  const healthyAt = new Map<string, number>();
  const deleted = new Set<string>();
  const record = (res: ResourceRef) =>
    stack.kube
      .watch(
        res,
        ns,
        { timeoutSeconds: 600 },
        (ev) => {
          const obj = ev.object as KubeObject;
          const what = `${obj.kind}/${obj.metadata.name}`;
          if (ev.type === 'ADDED') created.push({ at: Date.now(), what });
          if (ev.type === 'DELETED') deleted.add(what);
          const h = assessHealth(obj);
          if ((h === undefined || h.status === 'Healthy') && !healthyAt.has(what)) healthyAt.set(what, Date.now());
        },
        watches.signal,
      )
      .catch(() => undefined);
  for (const res of [Resources.job, Resources.configMap, Resources.deployment, Resources.service]) void record(res);

  sluice = await startGitOpsSluice(stack, ns);
  const app = exampleApplication('sync-waves-demo/application.yaml', repo, ns);
  await stack.kube.create(Resources.application, ns, app);

  const status = await eventually(
    'sync-waves-demo is Synced and Healthy after a Succeeded operation',
    async () => {
      const s = await applicationStatus(stack, ns, 'sync-waves-demo');
      return s.operationState?.phase === 'Succeeded' && s.sync?.status === 'Synced' && s.health?.status === 'Healthy' ? s : undefined;
    },
    150_000,
    500,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'sync-waves-demo'))}`);
  });
  assert.equal(status.sync.revision, repo.head());

  const order = created.filter((c) => c.what !== 'ConfigMap/kube-root-ca.crt');
  console.log('creation order:', order.map((c) => c.what).join(' → '));
  const firstAt = (what: string) => {
    const c = order.find((o) => o.what === what);
    assert.ok(c, `${what} was never created`);
    return c.at;
  };
  const waves: string[][] = [
    ['Job/db-backup-presync'],
    ['ConfigMap/app-config'],
    ['Deployment/postgres', 'Service/db'],
    ['Deployment/backend', 'Service/backend'],
    ['Deployment/frontend', 'Service/frontend'],
    ['Job/healthcheck-postsync'],
  ];
  for (let i = 1; i < waves.length; i++) {
    const started = Math.min(...waves[i].map(firstAt));
    for (const prev of waves[i - 1]) {
      assert.ok(firstAt(prev) <= started, `${prev} was created after wave ${i} started`);
      const healthy = healthyAt.get(prev);
      assert.ok(healthy !== undefined && healthy <= started, `${waves[i].join(', ')} started before ${prev} was healthy`);
    }
  }
  // Not recursive: migration/ is not part of the app.
  assert.ok(!order.some((o) => o.what.startsWith('Job/db-migration')), 'migration/ jobs were applied');
  await eventually('the HookSucceeded hooks are deleted', async () => deleted.has('Job/db-backup-presync') && deleted.has('Job/healthcheck-postsync'), 30_000);
  assert.equal(await stack.kube.find(Resources.job, ns, 'db-backup-presync'), undefined);

  const hooks = status.operationState.syncResult.resources.filter((r: any) => r.hookType);
  assert.deepEqual(hooks.map((r: any) => `${r.hookType}:${r.name}:${r.hookPhase}`).sort(), [
    'PostSync:healthcheck-postsync:Succeeded',
    'PreSync:db-backup-presync:Succeeded',
  ]);
  assert.equal(status.history.length, 1);
  assert.equal(status.history[0].revision, repo.head());
  console.log('status:', describeStatus(status));
});
