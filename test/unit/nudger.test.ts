import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Nudger } from '../../worker/nudger';
import { allSettled, settled } from '../../worker/watcher';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('nudges to one key while a signal is in flight collapse into one follow-up', async () => {
  const sent: number[] = [];
  let release!: () => void;
  const nudger = new Nudger(() => undefined);
  const slow = (n: number) => () =>
    new Promise<void>((r) => {
      sent.push(n);
      release = r;
    });
  nudger.nudge('a', slow(1));
  for (let n = 2; n <= 5; n++) nudger.nudge('a', slow(n));
  release();
  await tick(5);
  release();
  await tick(5);
  assert.deepEqual(sent, [1, 5], 'the first, then only the latest of those that waited');
  assert.equal(nudger.inFlight, 0);
});

test('a deferred nudge is sent after its delay, once, however many arrive meanwhile', async () => {
  let sent = 0;
  const nudger = new Nudger(() => undefined);
  for (let i = 0; i < 5; i++) nudger.nudge('a', async () => void sent++, 30);
  await tick(10);
  assert.equal(sent, 0, 'not before the delay');
  await tick(50);
  assert.equal(sent, 1);
});

test('an immediate nudge covers a deferred one for the same key, not for another', async () => {
  const sent: string[] = [];
  const nudger = new Nudger(() => undefined);
  nudger.nudge('a', async () => void sent.push('a-deferred'), 30);
  nudger.nudge('b', async () => void sent.push('b-deferred'), 30);
  nudger.nudge('a', async () => void sent.push('a-now'));
  await tick(60);
  assert.deepEqual(sent.sort(), ['a-now', 'b-deferred']);
});

test('cancelDeferred drops nudges not yet sent', async () => {
  let sent = 0;
  const nudger = new Nudger(() => undefined);
  nudger.nudge('a', async () => void sent++, 20);
  nudger.cancelDeferred();
  await tick(40);
  assert.equal(sent, 0);
});

test('a ReplicaSet is settled only when its controller caught up and every pod is available', () => {
  const rs = (spec: number, st: Record<string, number>, generation = 2) => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'x', generation },
    spec: { replicas: spec },
    status: st,
  });
  assert.equal(settled(rs(4, { observedGeneration: 2, replicas: 4, readyReplicas: 4, availableReplicas: 4 })), true);
  assert.equal(settled(rs(4, { observedGeneration: 2, replicas: 4, readyReplicas: 4, availableReplicas: 3 })), false, 'one pod not yet available');
  assert.equal(settled(rs(4, { observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2 })), false, 'a new spec not yet observed');
  assert.equal(settled(rs(0, { observedGeneration: 2 })), true, 'scaled to zero');
});

test("a ReplicaSet's event wakes its rollout at once only when every ReplicaSet of the rollout has settled", () => {
  const rs = (name: string, spec: number, available: number) => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, uid: name, generation: 1 },
    spec: { replicas: spec },
    status: { observedGeneration: 1, replicas: spec, readyReplicas: available, availableReplicas: available },
  });
  const canary = rs('canary', 4, 4);
  assert.equal(allSettled(canary, [canary, rs('stable', 6, 6)]), true);
  assert.equal(allSettled(canary, [canary, rs('stable', 6, 8)]), false, 'the stable side is still scaling down: the step is not done');
  assert.equal(allSettled(rs('canary', 4, 3), [canary, rs('stable', 6, 6)]), true, "the copy's newer version of the event's ReplicaSet counts");
  assert.equal(allSettled(canary, undefined), true, 'without a copy, the event alone');
  assert.equal(allSettled(rs('canary', 4, 3), undefined), false);
});
