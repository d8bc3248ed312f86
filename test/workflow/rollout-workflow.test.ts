// The rollout workflow's orchestration against a real Temporal server, with its
// activities backed by an in-memory ReplicaSet controller: step order, promote as an
// Update with a validator, timers. Records a history for the replay test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { applyReconcileAction, type RolloutActivities } from '../../activities/rollout';
import { prebuiltBundlePath } from '../../worker/worker';
import { nudgeSignal, promoteUpdate, rolloutViewQuery } from '../../workflows/definitions';
import type { RolloutStatus } from '../../workflows/rollouts/types';
import { canarySpec, FakeCluster } from '../support/fake-cluster';
import { repoRoot } from '../support/paths';
import { eventually } from '../support/stack';
import { ensureTools } from '../../k8s/toolchain';
import { CURRENT_GENERATION } from '../../workflows/generation';

let env: TestWorkflowEnvironment;

before(async () => {
  const address = process.env.SLUICE_TEST_TEMPORAL_ADDRESS;
  env = address
    ? await TestWorkflowEnvironment.createFromExistingServer({ address })
    : await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: (await ensureTools(() => undefined)).temporal } } });
});
after(() => env?.teardown());

/** The fake activities nudge the workflow after each change, as the watcher does for real ReplicaSets. */
function fakeActivities(cluster: FakeCluster, calls: string[], nudge: () => void): RolloutActivities {
  const fake: Omit<RolloutActivities, 'applyActions'> = {
    async observeRollout() {
      calls.push('observeRollout');
      return cluster.snapshot();
    },
    async createReplicaSet(_ref, req) {
      calls.push(`createReplicaSet ${req.hash}`);
      cluster.apply({ kind: 'createReplicaSet', ...req });
      nudge();
    },
    async scaleReplicaSet(_ref, req) {
      calls.push(`scaleReplicaSet ${req.name}=${req.replicas}`);
      cluster.apply({ kind: 'scaleReplicaSet', ...req });
      nudge();
    },
    async writeRolloutStatus(_ref, status: RolloutStatus) {
      cluster.status = status;
    },
    async setScaleDownDeadline(_ref, req) {
      cluster.apply({ kind: 'setScaleDownDeadline', ...req });
    },
    async setReplicaSetRevision(_ref, req) {
      cluster.apply({ kind: 'setRevision', ...req });
    },
    async deleteReplicaSet(_ref, req) {
      cluster.apply({ kind: 'deleteReplicaSet', ...req });
    },
    async switchServiceSelector(_ref, req) {
      cluster.apply({ kind: 'setServiceSelector', ...req });
      nudge();
    },
    async setTrafficWeight() {},
    async setPodMetadata() {},
    async restartPods() {
      return { remaining: 0 };
    },
    async patchRolloutSpec(_ref, spec) {
      Object.assign(cluster.spec, spec);
      nudge();
    },
    async setRolloutImage(_ref, _container, image) {
      cluster.setImage(image);
      nudge();
    },
    async undoRollout() {
      throw new Error('not used here');
    },
  };
  return {
    ...fake,
    async applyActions(ref, actions) {
      for (const action of actions) await applyReconcileAction(fake, ref, action);
    },
  };
}

/** The duration of the last timer the workflow started (its wait for the next pass). */
async function lastTimerSeconds(handle: { fetchHistory(): Promise<{ events?: any[] | null }> }): Promise<number | undefined> {
  const timers = ((await handle.fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes);
  return Number(timers[timers.length - 1]?.timerStartedEventAttributes.startToFireTimeout?.seconds ?? NaN);
}

test('canary steps: setWeight, indefinite pause released by promote, timed pause, promotion', async () => {
  const cluster = new FakeCluster(canarySpec([{ setWeight: 33 }, { pause: {} }, { setWeight: 66 }, { pause: { duration: '1s' } }]), 'shop', 'checkout');
  const calls: string[] = [];
  const taskQueue = `wf-test-${Date.now()}`;
  const workflowId = `rollout/shop/checkout-${taskQueue}`;
  const nudge = () => void env.client.workflow.getHandle(workflowId).signal(nudgeSignal, { reason: 'replicaset changed' }).catch(() => undefined);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: fakeActivities(cluster, calls, nudge),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('rolloutWorkflow', { taskQueue, workflowId, args: [{ namespace: 'shop', name: 'checkout', generation: CURRENT_GENERATION }] });
    await eventually('first revision Healthy', async () => cluster.status.phase === 'Healthy');

    // Promote is refused when there is nothing paused, with a message naming the rollout.
    await assert.rejects(handle.executeUpdate(promoteUpdate, { args: [{}] }), (err: Error) => /rollout shop\/checkout is not paused/.test(String((err as any).cause?.message ?? err.message)));

    cluster.setImage('demo:yellow');
    await handle.signal(nudgeSignal, { reason: 'test' });
    await eventually('paused at step 1', async () => cluster.status.phase === 'Paused' && cluster.status.currentStepIndex === 1);
    assert.match((await handle.query(rolloutViewQuery)).summary, /step 2\/4: pause \(until promoted\)/);
    // At rest, the safety-net timer is Argo's 15-minute resync, not the minute of a rollout in motion.
    await eventually('a 15-minute resync while paused until promoted', async () => (await lastTimerSeconds(handle)) === 900);

    const result = await handle.executeUpdate(promoteUpdate, { args: [{}] });
    assert.equal(result.message, 'rollout shop/checkout promoted');
    await eventually('completed', async () => cluster.status.phase === 'Healthy' && cluster.status.stableRS === cluster.status.currentPodHash, 30_000);
    await eventually('a 15-minute resync once Healthy', async () => (await lastTimerSeconds(handle)) === 900);
    assert.equal(cluster.created.length, 2, 'one ReplicaSet per revision');
    assert.equal(calls.filter((c) => c.startsWith('createReplicaSet')).length, 2, 'each creation ran once');

    if (process.env.SLUICE_RECORD_HISTORIES) {
      const history = await handle.fetchHistory();
      fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'rollout-canary.json'), historyToJSON(history));
    }
    await handle.terminate('test done');
  });
});

test('restartAt keeps going while deleted pods terminate, though no ReplicaSet event arrives', async () => {
  const cluster = new FakeCluster(canarySpec([{ setWeight: 50 }]), 'shop', 'restart');
  const taskQueue = `wf-test-restart-${Date.now()}`;
  const workflowId = `rollout/shop/restart-${taskQueue}`;
  const nudge = () => void env.client.workflow.getHandle(workflowId).signal(nudgeSignal, { reason: 'replicaset changed' }).catch(() => undefined);
  // Three stale pods; each call deletes one, and the ReplicaSet never changes, so the
  // watcher would have nothing to nudge with: only the workflow's own poll moves it on.
  let stale = 3;
  const deletions: number[] = [];
  const activities = {
    ...fakeActivities(cluster, [], nudge),
    async restartPods() {
      if (stale > 0) {
        stale--;
        deletions.push(Date.now());
      }
      return { remaining: stale };
    },
  };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: prebuiltBundlePath }, activities });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('rolloutWorkflow', { taskQueue, workflowId, args: [{ namespace: 'shop', name: 'restart' }] });
    await eventually('first revision Healthy', async () => cluster.status.phase === 'Healthy');
    const restartAt = new Date().toISOString();
    cluster.spec.restartAt = restartAt;
    await handle.signal(nudgeSignal, { reason: 'test' });
    // Well under the 60 s resync: the poll, not the resync, finished the restart.
    await eventually('restartedAt recorded', async () => cluster.status.restartedAt === restartAt, 20_000);
    assert.equal(deletions.length, 3);
    await handle.terminate('test done');
  });
});
