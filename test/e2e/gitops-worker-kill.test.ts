// SIGKILL the Sluice process in the middle of sync-waves-demo's waves: a second process
// finishes the sync, no wave is applied out of order or twice, the PreSync hook is not run
// again, and the operation is not left Running.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeObject, type ResourceRef } from '../../k8s/kube-client';
import { exampleApplication, examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, describeStatus } from '../support/gitops';
import { createNamespace, eventually, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
const processes: SluiceProcess[] = [];
const watches = new AbortController();
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-gitops-kill-'));

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'waves-kill');
  repo = examplesRepo((p, text) => (p.startsWith('sync-waves-demo/') ? text.replace(/sync-demo/g, ns) : text));
  process.env.SLUICE_HOME = path.join(logDir, 'home');
  process.env.SLUICE_APP_RECONCILE_SECONDS = '60';
  process.env.SLUICE_APP_RECONCILE_JITTER_SECONDS = '0';
});

after(async () => {
  watches.abort();
  for (const p of processes) await p.kill('SIGTERM').catch(() => undefined);
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
  fs.rmSync(logDir, { recursive: true, force: true });
});

test('a worker killed mid-wave: the sync finishes in order, nothing applied twice, the operation not left Running', async () => {
  const added: { at: number; what: string }[] = [];
  const record = (res: ResourceRef) =>
    stack.kube
      .watch(
        res,
        ns,
        { timeoutSeconds: 600 },
        (ev) => {
          const obj = ev.object as KubeObject;
          if (ev.type === 'ADDED') added.push({ at: Date.now(), what: `${obj.kind}/${obj.metadata.name}` });
        },
        watches.signal,
      )
      .catch(() => undefined);
  for (const res of [Resources.job, Resources.configMap, Resources.deployment, Resources.service]) void record(res);

  const logFile = path.join(logDir, 'sluice.log');
  processes.push(await spawnSluice(stack, ns, logFile));
  await stack.kube.create(Resources.application, ns, exampleApplication('sync-waves-demo/application.yaml', repo, ns));
  await eventually('wave 2 (postgres) has started', () => stack.kube.find(Resources.deployment, ns, 'postgres'), 90_000, 50);
  await processes[0].kill('SIGKILL');
  const killedAt = Date.now();
  console.log('killed the worker after:', added.map((a) => a.what).join(' → '));

  processes.push(await spawnSluice(stack, ns, logFile));
  const status = await eventually(
    'the sync finishes Succeeded after the restart',
    async () => {
      const s = await applicationStatus(stack, ns, 'sync-waves-demo');
      return s.operationState?.phase === 'Succeeded' && s.sync?.status === 'Synced' ? s : undefined;
    },
    120_000,
    500,
  ).catch(async (err) => {
    throw new Error(
      `${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'sync-waves-demo'))}\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`,
    );
  });
  console.log(`finished ${Date.now() - killedAt} ms after the kill; order:`, added.map((a) => a.what).join(' → '));

  const order = added.map((a) => a.what).filter((w) => w !== 'ConfigMap/kube-root-ca.crt');
  const counts = new Map<string, number>();
  for (const w of order) counts.set(w, (counts.get(w) ?? 0) + 1);
  for (const [what, n] of counts) assert.equal(n, 1, `${what} was created ${n} times`);
  const position = (w: string) => {
    const i = order.indexOf(w);
    assert.ok(i >= 0, `${w} was never created`);
    return i;
  };
  const sequence = [
    'Job/db-backup-presync',
    'ConfigMap/app-config',
    'Deployment/postgres',
    'Deployment/backend',
    'Deployment/frontend',
    'Job/healthcheck-postsync',
  ];
  for (let i = 1; i < sequence.length; i++) assert.ok(position(sequence[i - 1]) < position(sequence[i]), `${sequence[i - 1]} before ${sequence[i]}`);
  assert.equal(status.health.status, 'Healthy');
  assert.equal(status.history.length, 1);
});
