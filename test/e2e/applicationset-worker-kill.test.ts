// SIGKILL the Sluice process while a RollingSync is in its middle step (staging): a second
// process finishes the rollout in order (dev, staging, prod, each only after the one before is
// Synced and Healthy) and no Application is synced twice. The proof comes from one watch of
// the Applications (one stream, in the API server's order: the sync asked of staging comes
// after dev was seen Healthy), each Application's operationState and status.history, and
// Temporal (no second sync workflow for any Application).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { inform } from '../../k8s/informer';
import { applicationWorkflowId } from '../../workflows/definitions';
import { syncsInHistory } from '../support/gitops';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { createNamespace, eventually, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
const processes: SluiceProcess[] = [];
const watches = new AbortController();
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-appset-kill-'));
const ENVS = ['dev', 'staging', 'prod'] as const;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'appset-kill');
  repo = examplesRepo();
  process.env.SLUICE_HOME = path.join(logDir, 'home');
});

after(async () => {
  watches.abort();
  for (const p of processes) await p.kill('SIGTERM').catch(() => undefined);
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  for (const env of ENVS) await stack.kube.delete(Resources.namespace, undefined, `${ns}-${env}`).catch(() => undefined);
  repo?.remove();
  await stack.stop();
  fs.rmSync(logDir, { recursive: true, force: true });
});

/** The ApplicationSet's status, each Application's, and the end of Sluice's log: what a timeout says. */
async function describe(logFile: string): Promise<string> {
  const set = await stack.kube.find(Resources.applicationSet, ns, 'rolling');
  const { items } = await stack.kube.list(Resources.application, ns);
  const apps = items.map((a: any) => ({
    name: a.metadata.name,
    operation: !!a.operation,
    sync: a.status?.sync?.status,
    health: a.status?.health?.status,
    op: a.status?.operationState && { phase: a.status.operationState.phase, message: a.status.operationState.message },
    conditions: a.status?.conditions,
  }));
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-4000) : '';
  return `ApplicationSet status: ${JSON.stringify(set?.status)}\nApplications: ${JSON.stringify(apps)}\nlog: ${log}`;
}

/** What one watch event showed of an Application. */
interface Seen {
  app: string;
  operationAsked: boolean;
  startedAt?: string;
  phase?: string;
  synced: boolean;
  healthy: boolean;
  history: number;
}

test('RollingSync with the worker killed in the middle step: finishes in order, no Application synced twice', async () => {
  const seen: Seen[] = [];
  void inform(
    { kube: stack.kube, resource: Resources.application, namespace: ns, signal: watches.signal, log: (msg, f) => console.error(msg, f) },
    (type, obj) => {
      if (type === 'DELETED') return;
      const a = obj as KubeObject & { operation?: unknown; status?: any };
      seen.push({
        app: a.metadata.name,
        operationAsked: !!a.operation,
        startedAt: a.status?.operationState?.startedAt,
        phase: a.status?.operationState?.phase,
        synced: a.status?.sync?.status === 'Synced',
        healthy: a.status?.health?.status === 'Healthy',
        history: (a.status?.history ?? []).length,
      });
    },
  );

  const logFile = path.join(logDir, 'sluice.log');
  processes.push(await spawnSluice(stack, ns, logFile));
  await stack.kube.create(Resources.applicationSet, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'rolling', namespace: ns },
    spec: {
      generators: [{ list: { elements: ENVS.map((env) => ({ env })) } }],
      strategy: { type: 'RollingSync', rollingSync: { steps: ENVS.map((env) => ({ matchExpressions: [{ key: 'env', operator: 'In', values: [env] }] })) } },
      template: {
        metadata: { name: 'rk-{{env}}', labels: { env: '{{env}}' } },
        spec: {
          project: 'default',
          source: { repoURL: repo.url, targetRevision: 'HEAD', path: 'apps/frontend' },
          destination: { server: 'https://kubernetes.default.svc', namespace: `${ns}-{{env}}` },
          syncPolicy: { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] },
        },
      },
    },
  });

  // The middle step has begun: staging was asked to sync (or its sync has started).
  await eventually('staging is asked to sync', async () => seen.some((s) => s.app === 'rk-staging' && (s.operationAsked || s.startedAt)), 180_000, 20).catch(
    async (err) => {
      throw new Error(`${err.message}; ${await describe(logFile)}`);
    },
  );
  await processes[0]!.kill('SIGKILL');
  const at = (app: string) => seen.filter((s) => s.app === app).at(-1);
  console.log(
    'killed the worker with',
    ENVS.map((e) => `${e}: ${JSON.stringify(at(`rk-${e}`) ?? null)}`),
  );
  assert.ok(!seen.some((s) => s.app === 'rk-prod' && (s.operationAsked || s.startedAt)), 'prod was asked to sync before staging was done');

  processes.push(await spawnSluice(stack, ns, logFile));
  const status = await eventually(
    'the rollout completes after the restart',
    async () => {
      const st = (await stack.kube.get(Resources.applicationSet, ns, 'rolling')).status ?? {};
      const statuses = st.applicationStatus ?? [];
      return statuses.length === 3 && statuses.every((a: any) => a.status === 'Healthy') && st;
    },
    180_000,
    500,
  ).catch(async (err) => {
    throw new Error(`${err.message}; ${await describe(logFile)}`);
  });
  assert.equal(status.conditions.find((c: any) => c.type === 'RolloutProgressing')?.status, 'False');

  // Order, in the API server's own order of events: a step is asked to sync only after the one
  // before was seen Synced and Healthy after its sync.
  const firstIndex = (app: string, p: (s: Seen) => boolean) => seen.findIndex((s) => s.app === app && p(s));
  const asked = (env: string) => firstIndex(`rk-${env}`, (s) => s.operationAsked || !!s.startedAt);
  // Before its sync an Application's Deployment is missing: Synced and Healthy after being asked means synced.
  const healthyAfterSync = (env: string) => seen.findIndex((s, i) => i > asked(env) && s.app === `rk-${env}` && s.synced && s.healthy);
  for (const env of ENVS) {
    assert.ok(asked(env) >= 0, `${env} was never asked to sync`);
    assert.ok(healthyAfterSync(env) > asked(env), `${env} never became Synced and Healthy after its sync`);
  }
  assert.ok(asked('staging') > healthyAfterSync('dev'), 'staging was asked to sync before dev was Healthy');
  assert.ok(asked('prod') > healthyAfterSync('staging'), 'prod was asked to sync before staging was Healthy');

  // Once each: one operation started (one startedAt), asked once (one stretch with `operation`
  // set), one history entry, one sync in the Application's workflow.
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const client = new Client({ connection });
    const apps = new Map((await stack.kube.list(Resources.application, ns)).items.map((a) => [a.metadata.name, a as any]));
    for (const env of ENVS) {
      const name = `rk-${env}`;
      const mine = seen.filter((s) => s.app === name);
      const starts = new Set(mine.map((s) => s.startedAt).filter(Boolean));
      assert.equal(starts.size, 1, `${name}: operations started at ${[...starts].join(', ')}`);
      let stretches = 0;
      mine.forEach((s, i) => s.operationAsked && !mine[i - 1]?.operationAsked && stretches++);
      assert.equal(stretches, 1, `${name}: asked to sync ${stretches} times`);
      const app = apps.get(name);
      assert.equal(app.status.history.length, 1, `${name}: ${app.status.history.length} history entries`);
      assert.equal(app.status.operationState.operation.initiatedBy.username, 'applicationset-controller');
      const events = (await client.workflow.getHandle(applicationWorkflowId({ namespace: ns, name })).fetchHistory()).events ?? [];
      assert.equal(syncsInHistory(events), 1, `${name}: sync operations in its workflow's history`);
    }
    const op = (env: string) => apps.get(`rk-${env}`).status.operationState;
    assert.ok(op('staging').startedAt >= op('dev').finishedAt, `staging started ${op('staging').startedAt}, dev finished ${op('dev').finishedAt}`);
    assert.ok(op('prod').startedAt >= op('staging').finishedAt, `prod started ${op('prod').startedAt}, staging finished ${op('staging').finishedAt}`);
    console.log(
      'operations:',
      ENVS.map((e) => `${e} ${op(e).startedAt} → ${op(e).finishedAt}`),
    );
  } finally {
    await connection.close();
  }
});
