import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRollout as decideCanary } from '../../domain/rollouts/decide';
import { progressFromStatus } from '../../domain/rollouts/progress';
import { canarySpec, converge, FakeCluster } from '../support/fake-cluster';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const steps = [{ setWeight: 33 }, { pause: {} }, { setWeight: 66 }, { pause: { duration: '10s' } }];

test('the first revision goes straight to full size and Healthy', () => {
  const cluster = new FakeCluster(canarySpec(steps));
  const d = converge(cluster, progressFromStatus(undefined), T0);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(cluster.replicaSets.length, 1);
  assert.equal(cluster.replicaSets[0].specReplicas, 3);
  assert.equal(d.status.stableRS, d.status.currentPodHash);
  assert.equal(d.status.currentStepIndex, 4);
});

test('an image change runs setWeight 33, pauses, and continues only when promoted', () => {
  const cluster = new FakeCluster(canarySpec(steps));
  let d = converge(cluster, progressFromStatus(undefined), T0);
  const stableHash = d.status.stableRS;
  cluster.setImage('demo:yellow');
  d = converge(cluster, d.progress, T0 + 1000);
  assert.equal(d.status.phase, 'Paused');
  assert.equal(d.status.currentStepIndex, 1);
  assert.equal(d.status.pauseConditions?.[0].reason, 'CanaryPauseStep');
  const canary = cluster.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!;
  const stable = cluster.replicaSets.find((rs) => rs.podTemplateHash === stableHash)!;
  assert.equal(canary.specReplicas, 1);
  assert.equal(stable.specReplicas, 3);
  assert.equal(d.wakeAt, undefined, 'an indefinite pause sets no timer');

  // Time alone does not end an indefinite pause.
  d = converge(cluster, d.progress, T0 + 3_600_000);
  assert.equal(d.status.phase, 'Paused');

  // Promote: the pause condition is cleared, the rollout goes to 66 and pauses 10 s.
  d = converge(cluster, { ...d.progress, pauseConditions: [] }, T0 + 3_600_000);
  assert.equal(d.status.currentStepIndex, 3);
  assert.equal(d.wakeAt, T0 + 3_600_000 + 10_000);
  assert.equal(cluster.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!.specReplicas, 2);

  // Before the timer: still paused. After it: promoted to stable, old scaled to 0.
  d = converge(cluster, d.progress, T0 + 3_600_000 + 9_999);
  assert.equal(d.status.phase, 'Paused');
  d = converge(cluster, d.progress, T0 + 3_600_000 + 10_000);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(d.status.stableRS, d.status.currentPodHash);
  const byHash = new Map(cluster.replicaSets.map((rs) => [rs.podTemplateHash, rs.specReplicas]));
  assert.equal(byHash.get(d.status.currentPodHash!), 3);
  assert.equal(byHash.get(stableHash!), 0);
  assert.equal(cluster.created.length, 2, 'exactly one ReplicaSet per revision');
});

test('a setWeight step waits until the canary pods are available', () => {
  const cluster = new FakeCluster(canarySpec([{ setWeight: 50 }, { pause: {} }], 4));
  let d = converge(cluster, progressFromStatus(undefined), T0);
  cluster.podsBecomeAvailable = false;
  cluster.setImage('demo:yellow');
  d = converge(cluster, d.progress, T0 + 1);
  assert.equal(d.status.currentStepIndex, 0);
  assert.equal(d.status.phase, 'Progressing');
  cluster.podsBecomeAvailable = true;
  cluster.settle();
  d = converge(cluster, d.progress, T0 + 2);
  assert.equal(d.status.currentStepIndex, 1);
  assert.equal(d.status.phase, 'Paused');
});

test('a newer revision mid-rollout supersedes the canary; going back to stable is a fast-track rollback', () => {
  const cluster = new FakeCluster(canarySpec(steps));
  let d = converge(cluster, progressFromStatus(undefined), T0);
  const stableHash = d.status.stableRS!;
  cluster.setImage('demo:yellow');
  d = converge(cluster, d.progress, T0 + 1);
  const yellow = d.status.currentPodHash!;
  cluster.setImage('demo:green');
  d = converge(cluster, d.progress, T0 + 2);
  assert.equal(d.status.currentStepIndex, 1);
  assert.equal(cluster.replicaSets.find((rs) => rs.podTemplateHash === yellow)!.specReplicas, 0);

  cluster.setImage('demo:blue');
  d = converge(cluster, d.progress, T0 + 3);
  assert.equal(d.status.currentPodHash, stableHash);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(cluster.replicaSets.filter((rs) => rs.specReplicas > 0).length, 1);
});

test('an invalid spec changes nothing and says which field', () => {
  const cluster = new FakeCluster(canarySpec([{ setWeight: 20 }, { bogus: 1 }]));
  const d = decideCanary(cluster.snapshot(), progressFromStatus(undefined), T0);
  assert.deepEqual(d.actions, []);
  assert.equal(d.status.phase, 'Degraded');
  assert.match(d.status.message!, /InvalidSpec: spec\.strategy\.canary\.steps\[1\]\.bogus/);
  assert.equal(d.status.conditions?.[0].type, 'InvalidSpec');
});

test('going back to an older revision reuses its ReplicaSet, and promote --full completes it', () => {
  const cluster = new FakeCluster(canarySpec(steps));
  let d = converge(cluster, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS!;
  cluster.setImage('demo:yellow');
  d = converge(cluster, d.progress, T0 + 1);
  d = converge(cluster, { ...d.progress, promoteFull: true }, T0 + 2);
  assert.equal(d.status.phase, 'Healthy');
  const yellow = d.status.stableRS!;
  assert.notEqual(yellow, blue);

  cluster.setImage('demo:blue');
  d = converge(cluster, d.progress, T0 + 3);
  assert.equal(d.status.currentPodHash, blue);
  assert.equal(d.status.currentStepIndex, 1);
  // As Argo: a full promotion counts every step as done, while it runs and after.
  const promoting = decideCanary(cluster.snapshot(), { ...d.progress, promoteFull: true }, T0 + 4);
  assert.equal(promoting.status.currentStepIndex, steps.length);
  d = converge(cluster, { ...d.progress, promoteFull: true }, T0 + 4);
  assert.equal(d.status.phase, 'Healthy', d.status.message);
  assert.equal(d.status.stableRS, blue);
  assert.equal(d.status.currentStepIndex, steps.length);
  d = converge(cluster, d.progress, T0 + 5);
  assert.equal(d.status.currentStepIndex, steps.length, 'still every step once promoted');
  assert.equal(cluster.created.length, 2, 'the old ReplicaSet was reused');
});

test('a step holds only once the stable side has really shrunk, not when it is merely told to', () => {
  // 10 replicas at setWeight 20: the canary is up (2) and the stable ReplicaSet has been
  // told to go to 8, but still reports 10 available, its controller not caught up.
  const cluster = new FakeCluster(canarySpec([{ setWeight: 20 }, { setWeight: 40 }, { pause: {} }], 10));
  let d = converge(cluster, progressFromStatus(undefined), T0);
  const stableHash = d.status.stableRS;
  cluster.setImage('demo:yellow');
  d = decideCanary(cluster.snapshot(), d.progress, T0 + 1);
  for (const a of d.actions) cluster.apply(a);
  const stable = cluster.replicaSets.find((rs) => rs.podTemplateHash === stableHash)!;
  const canary = cluster.replicaSets.find((rs) => rs.podTemplateHash !== stableHash)!;
  Object.assign(canary, { specReplicas: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2, observed: true });
  Object.assign(stable, { specReplicas: 8, replicas: 10, readyReplicas: 10, availableReplicas: 10, observed: false });
  d = decideCanary(cluster.snapshot(), d.progress, T0 + 2);
  assert.equal(d.status.currentStepIndex, 0, 'still at setWeight 20 while 10 stable pods are available');
  assert.ok(!d.actions.some((a) => a.kind === 'scaleReplicaSet' && a.name === canary.name), 'the canary is not grown yet');
  Object.assign(stable, { replicas: 8, readyReplicas: 8, availableReplicas: 8, observed: true });
  d = decideCanary(cluster.snapshot(), d.progress, T0 + 3);
  assert.equal(d.status.currentStepIndex, 1, 'the step moves on once the stable side reports 8');
});
