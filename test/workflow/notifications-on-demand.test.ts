// The notifications Worker started on demand (worker/on-demand-worker.ts) against a real
// Temporal server: not started while nothing runs on its queue; started by a run left open
// before the process began (a restart), by this process starting one (the client
// interceptor), and by a run another process started (the periodic check). Each run is a
// notifications workflow whose Application is gone, so it completes once a worker serves it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { Worker } from '@temporalio/worker';
import { prebuiltBundlePath } from '../../worker/worker';
import { openRunsQuery, WorkerOnDemand } from '../../worker/on-demand-worker';
import { notificationsWorkflow } from '../../workflows/notifications';
import { eventually } from '../support/stack';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await testWorkflowEnvironment();
});
after(() => env?.teardown());

function onDemand(taskQueue: string, checkEveryMs = 60_000) {
  const created: Worker[] = [];
  const logs: string[] = [];
  const demand = new WorkerOnDemand({
    taskQueue,
    create: async () => {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        workflowBundle: { codePath: prebuiltBundlePath },
        activities: { readNotificationSubject: async () => undefined },
      });
      created.push(worker);
      return worker;
    },
    hasOpenRuns: async () => (await env.client.workflow.count(openRunsQuery(taskQueue))).count > 0,
    log: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields)}`),
    checkEveryMs,
  });
  return { demand, created, logs };
}

const ref = { namespace: 'argocd', name: 'gone' };
const completes = async (client: Client, workflowId: string) => {
  await eventually(`${workflowId} completes`, async () => (await client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED', 60_000, 100);
};

test('nothing on the queue: no worker; a run this process starts: the worker starts and serves it', async () => {
  const taskQueue = `on-demand-own-${Date.now()}`;
  const { demand, created, logs } = onDemand(taskQueue);
  await demand.begin();
  assert.equal(demand.started, false);
  assert.equal(created.length, 0);
  const client = new Client({ connection: env.client.connection, namespace: env.namespace ?? 'default', interceptors: { workflow: [demand.interceptor()] } });
  // Another queue's start does not wake it.
  const other = await client.workflow.start(notificationsWorkflow, { taskQueue: `${taskQueue}-other`, workflowId: `${taskQueue}-other`, args: [ref] });
  assert.equal(demand.started, false);
  await other.terminate();
  await client.workflow.signalWithStart(notificationsWorkflow, { taskQueue, workflowId: `${taskQueue}-1`, args: [ref], signal: 'nudge', signalArgs: [] });
  assert.equal(demand.started, true);
  await completes(client, `${taskQueue}-1`);
  assert.equal(created.length, 1);
  assert.ok(
    logs.some((l) => l.includes('signalled with start')),
    logs.join('\n'),
  );
  await demand.drain();
});

test('a run left open before the process began (a restart) starts the worker at once', async () => {
  const taskQueue = `on-demand-restart-${Date.now()}`;
  await env.client.workflow.start(notificationsWorkflow, { taskQueue, workflowId: `${taskQueue}-1`, args: [ref] });
  const { demand, created } = onDemand(taskQueue);
  // Visibility shows a new run within moments; begin() asks once.
  await eventually('the run is visible', async () => (await env.client.workflow.count(openRunsQuery(taskQueue))).count === 1, 30_000, 100);
  await demand.begin();
  assert.equal(demand.started, true);
  await completes(env.client, `${taskQueue}-1`);
  assert.equal(created.length, 1);
  await demand.drain();
});

test('a run another process started (and left behind) is found by the periodic check', async () => {
  const taskQueue = `on-demand-other-${Date.now()}`;
  const { demand } = onDemand(taskQueue, 200);
  await demand.begin();
  assert.equal(demand.started, false);
  await env.client.workflow.start(notificationsWorkflow, { taskQueue, workflowId: `${taskQueue}-1`, args: [ref] });
  await completes(env.client, `${taskQueue}-1`);
  assert.equal(demand.started, true);
  await demand.drain();
});

test('a process that stops before any demand never creates the worker; one that cannot tell starts it', async () => {
  const idle = onDemand(`on-demand-idle-${Date.now()}`, 50);
  await idle.demand.begin();
  await idle.demand.drain();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(idle.created.length, 0);
  const logs: string[] = [];
  let created = 0;
  const unsure = new WorkerOnDemand({
    taskQueue: 'on-demand-unsure',
    create: async () => {
      created++;
      throw new Error('no worker in this test');
    },
    hasOpenRuns: async () => {
      throw new Error('visibility unavailable');
    },
    log: (msg) => logs.push(msg),
    checkEveryMs: 60_000,
  });
  await unsure.begin();
  await eventually('the failed start is logged', async () => logs.includes('worker failed to start'), 10_000, 20);
  assert.ok(created >= 1);
  assert.ok(logs.includes('cannot tell whether runs are open on the task queue; starting its worker'));
  await unsure.drain();
});
