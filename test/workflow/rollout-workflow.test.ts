// The rollout workflow's orchestration against a real Temporal server, with its
// activities backed by an in-memory ReplicaSet controller: step order, promote as an
// Update with a validator, timers. Records a history for the replay test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { Worker } from '@temporalio/worker';
import { applyReconcileAction, writeThenObserve, type RolloutActivities } from '../../activities/rollout';
import { prebuiltBundlePath } from '../../worker/worker';
import { nudgeSignal, pauseUpdate, promoteUpdate, resumeUpdate, rolloutRevisionsQuery, rolloutViewQuery, rolloutWorkflowId } from '../../workflows/definitions';
import { RolloutCommands } from '../../api/rollout-commands';
import type { RolloutStatus } from '../../domain/rollouts/types';
import { canarySpec, FakeCluster } from '../support/fake-cluster';
import { repoRoot } from '../support/paths';
import { eventually } from '../support/stack';
import { rolloutWorkflow } from '../../workflows/rollout';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await testWorkflowEnvironment();
});
after(() => env?.teardown());

/** The fake activities nudge the workflow after each change, as the watcher does for real ReplicaSets. */
/** What the watcher does when a ReplicaSet changes: signal the rollout's workflow. */
const nudgeOf = (workflowId: string) => () =>
  void env.client.workflow
    .getHandle(workflowId)
    .signal(nudgeSignal, { reason: 'replicaset changed' })
    .catch(() => undefined);

function fakeActivities(cluster: FakeCluster, calls: string[], nudge: () => void): RolloutActivities {
  const fake: Omit<RolloutActivities, 'applyActions' | 'writeStatusThenObserve'> = {
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
    async recordEvent(_ref, ev) {
      calls.push(`recordEvent ${ev.name} ${ev.reason}: ${ev.message}`);
    },
  };
  return {
    ...fake,
    async applyActions(ref, actions) {
      for (const action of actions) await applyReconcileAction(fake, ref, action);
    },
    async writeStatusThenObserve(ref, status) {
      return writeThenObserve(fake, ref, status);
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
  const nudge = nudgeOf(workflowId);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: fakeActivities(cluster, calls, nudge),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(rolloutWorkflow, { taskQueue, workflowId, args: [{ namespace: 'shop', name: 'checkout' }] });
    await eventually('first revision Healthy', async () => cluster.status.phase === 'Healthy');

    // Promote is refused when there is nothing paused, with a message naming the rollout.
    await assert.rejects(handle.executeUpdate(promoteUpdate, { args: [{}] }), (err: Error) =>
      /rollout shop\/checkout is not paused/.test(String((err as any).cause?.message ?? err.message)),
    );

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

test('blue-green: preview gets the new revision, promote switches the active Service', async () => {
  const spec = canarySpec([]);
  spec.strategy = { blueGreen: { activeService: 'active', previewService: 'preview', autoPromotionEnabled: false, scaleDownDelaySeconds: 1 } };
  const cluster = new FakeCluster(spec, 'shop', 'storefront');
  cluster.addService('active');
  cluster.addService('preview');
  const calls: string[] = [];
  const taskQueue = `wf-test-bg-${Date.now()}`;
  const workflowId = `rollout/shop/storefront-${taskQueue}`;
  const nudge = nudgeOf(workflowId);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: fakeActivities(cluster, calls, nudge),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(rolloutWorkflow, { taskQueue, workflowId, args: [{ namespace: 'shop', name: 'storefront' }] });
    await eventually('first revision Healthy', async () => cluster.status.phase === 'Healthy');
    const first = cluster.status.stableRS;
    cluster.setImage('demo:green');
    await handle.signal(nudgeSignal, { reason: 'test' });
    await eventually(
      'paused with the new revision in preview',
      async () => cluster.status.phase === 'Paused' && cluster.selectorOf('preview') === cluster.status.currentPodHash,
    );
    assert.equal(cluster.selectorOf('active'), first, 'active still selects the first revision');
    await handle.executeUpdate(promoteUpdate, { args: [{}] });
    await eventually('promoted', async () => cluster.status.phase === 'Healthy' && cluster.selectorOf('active') === cluster.status.currentPodHash, 30_000);
    await eventually(
      'old revision scaled down after its delay',
      async () => cluster.replicaSets.find((rs) => rs.podTemplateHash === first)?.specReplicas === 0,
      30_000,
    );
    if (process.env.SLUICE_RECORD_HISTORIES) {
      fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'rollout-bluegreen.json'), historyToJSON(await handle.fetchHistory()));
    }
    await handle.terminate('test done');
  });
});

test('restartAt keeps going while deleted pods terminate, though no ReplicaSet event arrives', async () => {
  const cluster = new FakeCluster(canarySpec([{ setWeight: 50 }]), 'shop', 'restart');
  const taskQueue = `wf-test-restart-${Date.now()}`;
  const workflowId = `rollout/shop/restart-${taskQueue}`;
  const nudge = nudgeOf(workflowId);
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
    const handle = await env.client.workflow.start(rolloutWorkflow, { taskQueue, workflowId, args: [{ namespace: 'shop', name: 'restart' }] });
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

test('runaway guard: a ReplicaSet scaled back after every write stops the rollout, commands still answer, a spec change resumes it', async () => {
  const cluster = new FakeCluster(canarySpec([{ setWeight: 50 }], 4), 'shop', 'loop');
  const calls: string[] = [];
  const statuses: RolloutStatus[] = [];
  const taskQueue = `wf-test-loop-${Date.now()}`;
  const workflowId = `rollout/shop/loop-${taskQueue}`;
  const nudge = nudgeOf(workflowId);
  // Another controller (an HPA, say) scales the ReplicaSet back to 1 whenever the workflow looks.
  let fighting = false;
  let generation = 1;
  const fake = fakeActivities(cluster, calls, nudge);
  const activities: RolloutActivities = {
    ...fake,
    async observeRollout(ref) {
      if (fighting) for (const rs of cluster.replicaSets) cluster.apply({ kind: 'scaleReplicaSet', name: rs.name, replicas: 1 });
      return { ...(await fake.observeRollout(ref)), generation };
    },
    async writeRolloutStatus(ref, status) {
      statuses.push(status);
      await fake.writeRolloutStatus(ref, status);
    },
    // The deferred status and the next observation in one call, through the two above.
    writeStatusThenObserve: (ref, status) => writeThenObserve(activities, ref, status),
  };
  const scales = () => calls.filter((c) => c.startsWith('scaleReplicaSet')).length;
  const loopStatuses = () => statuses.filter((s) => s.conditions?.some((c) => c.reason === 'ReconcileLoop')).length;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: prebuiltBundlePath }, activities });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(rolloutWorkflow, { taskQueue, workflowId, args: [{ namespace: 'shop', name: 'loop' }] });
    await eventually('first revision Healthy', async () => cluster.status.phase === 'Healthy');
    const rsName = cluster.replicaSets[0].name;

    fighting = true;
    await handle.signal(nudgeSignal, { reason: 'test' });
    await eventually(
      'stopped with ReconcileLoop',
      async () => cluster.status.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ReconcileLoop') ?? false,
      30_000,
    );
    const progressing = cluster.status.conditions!.find((c) => c.type === 'Progressing')!;
    assert.equal(progressing.status, 'False');
    assert.match(progressing.message, new RegExp(`^ReplicaSet ${rsName} spec.replicas alternated 1↔4 \\d+ times in 60 s$`));
    assert.ok(scales() > 10, `it fought before stopping (${scales()} writes)`);

    // Still fighting, still nudged: no more writes, one condition write, one Event.
    const stoppedAt = scales();
    for (let i = 0; i < 5; i++) {
      await handle.signal(nudgeSignal, { reason: 'test' });
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(scales(), stoppedAt, 'no write after the guard stopped the rollout');
    assert.equal(loopStatuses(), 1, 'the ReconcileLoop condition is written once');
    const events = calls.filter((c) => c.startsWith('recordEvent'));
    assert.equal(events.length, 1);
    assert.match(events[0], /^recordEvent loop\.[0-9a-f]+ ReconcileLoop: ReplicaSet .* spec\.replicas alternated 1↔4/);
    assert.match((await handle.query(rolloutViewQuery)).summary, /^stopped: ReplicaSet/);

    // Commands are still served while it is stopped (the fake's generation stays put).
    assert.equal((await handle.executeUpdate(pauseUpdate)).message, 'rollout shop/loop paused');
    await eventually('resume answers', async () => {
      try {
        return (await handle.executeUpdate(resumeUpdate)).message === 'rollout shop/loop resumed';
      } catch {
        return false;
      }
    });
    assert.equal(scales(), stoppedAt, 'commands did not restart the fight');

    // The other controller is gone and the spec changes: the rollout acts again.
    fighting = false;
    generation = 2;
    await handle.signal(nudgeSignal, { reason: 'test' });
    await eventually('acting again', async () => cluster.replicaSets[0].specReplicas === 4 && cluster.status.phase === 'Healthy', 30_000);
    assert.ok(scales() > stoppedAt);
    assert.notEqual(cluster.status.conditions?.find((c) => c.type === 'Progressing')?.reason, 'ReconcileLoop');
    if (process.env.SLUICE_RECORD_HISTORIES) {
      fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'rollout-runaway-guard.json'), historyToJSON(await handle.fetchHistory()));
    }
    await handle.terminate('test done');
  });
});

test('revision history: records carried across continue-as-new, older ones read back from the closed runs', async () => {
  const cluster = new FakeCluster(canarySpec([]), 'shop', 'checkout');
  const taskQueue = `wf-test-hist-${Date.now()}`;
  const ref = { namespace: 'shop', name: `hist-${taskQueue}` };
  const workflowId = rolloutWorkflowId(ref);
  const nudge = nudgeOf(workflowId);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: fakeActivities(cluster, [], nudge),
  });
  await worker.runUntil(async () => {
    // Two records carried, a new run every 3 passes: most revisions end up only in closed runs.
    const handle = await env.client.workflow.start(rolloutWorkflow, {
      taskQueue,
      workflowId,
      args: [{ ...ref, limits: { iterationsPerRun: 3, revisionsKept: 2 } }],
    });
    const stable = () => cluster.status.phase === 'Healthy' && cluster.status.stableRS === cluster.status.currentPodHash;
    await eventually('first revision Healthy', async () => stable(), 30_000);
    const images = ['demo:yellow', 'demo:green', 'demo:red', 'demo:purple'];
    for (const image of images) {
      const before = cluster.status.currentPodHash;
      cluster.setImage(image);
      await handle.signal(nudgeSignal, { reason: 'test' });
      await eventually(`${image} promoted`, async () => cluster.status.currentPodHash !== before && stable(), 30_000);
    }
    const carried = await handle.query(rolloutRevisionsQuery);
    assert.equal(carried.length, 2, 'the run carries only the newest two');
    const latest = await env.client.workflow.getHandle(workflowId).describe();
    assert.notEqual(latest.runId, handle.firstExecutionRunId, 'the workflow continued as new');

    const history = await new RolloutCommands(env.client).history(ref);
    console.log('revisions:', history.map((r) => `${r.revision} ${r.images.join(',')} ${r.outcome}`).join(' | '));
    assert.deepEqual(
      history.map((r) => r.images[0]),
      ['demo:blue', ...images],
    );
    assert.deepEqual(
      history.map((r) => r.revision),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      history.map((r) => r.outcome),
      ['Promoted', 'Promoted', 'Promoted', 'Promoted', 'Promoted'],
    );
    for (const r of history) assert.ok(r.endedAt && r.endedAt >= r.startedAt);
    await handle.terminate('test done');
  });
});
