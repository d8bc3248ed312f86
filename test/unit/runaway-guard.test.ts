import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detectFlap,
  FLAP_LIMIT,
  FLAP_WINDOW_MS,
  haltedStatus,
  MAX_WRITES_KEPT,
  progressKey,
  rememberWrites,
  writesOf,
  type WriteRecord,
} from '../../domain/rollouts/runaway';
import { progressFromStatus } from '../../domain/rollouts/progress';
import { canarySpec, FakeCluster } from '../support/fake-cluster';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const scale = (name: string, from: number, to: number, atMs: number, progress = 'p'): WriteRecord => ({
  object: `ReplicaSet ${name}`,
  field: 'spec.replicas',
  value: String(to),
  previous: String(from),
  atMs,
  progress,
});

/** Feeds writes through the window as the workflow does, pass by pass. */
function run(writes: WriteRecord[]) {
  let kept: WriteRecord[] = [];
  let flap;
  for (const w of writes) {
    kept = rememberWrites(kept, [w], w.atMs);
    flap = detectFlap(kept, w.atMs) ?? flap;
  }
  return { kept, flap };
}

test('a 1↔4 flap on one ReplicaSet is a loop, named with the field and its values', () => {
  // Something scales it back to 1 after every write of 4: 30 writes in 30 s.
  const { flap } = run(Array.from({ length: 30 }, (_, i) => scale('web-abc', 1, 4, T0 + i * 1000)));
  assert.ok(flap);
  assert.equal(flap.object, 'ReplicaSet web-abc');
  assert.equal(flap.field, 'spec.replicas');
  assert.deepEqual(flap.values, ['1', '4']);
  assert.equal(flap.message, 'ReplicaSet web-abc spec.replicas alternated 1↔4 29 times in 60 s');
});

test('the decision itself swinging 1→4→1 is a loop too', () => {
  const writes = Array.from({ length: 2 * FLAP_LIMIT + 4 }, (_, i) => (i % 2 ? scale('web-abc', 4, 1, T0 + i * 500) : scale('web-abc', 1, 4, T0 + i * 500)));
  assert.match(run(writes).flap?.message ?? '', /alternated 1↔4 \d+ times/);
});

test('exactly FLAP_LIMIT rewrites is tolerated; one more is not', () => {
  const writes = Array.from({ length: FLAP_LIMIT + 1 }, (_, i) => scale('web-abc', 1, 4, T0 + i * 1000));
  assert.equal(run(writes).flap, undefined);
  assert.ok(run([...writes, scale('web-abc', 1, 4, T0 + 20_000)]).flap);
});

test('a legitimate canary scaling up steadily, many writes in one step, is not a loop', () => {
  // The canary goes 1..20 and the stable 20..1 under one progress key: each value once.
  const writes: WriteRecord[] = [];
  for (let i = 1; i <= 20; i++) writes.push(scale('web-new', i - 1, i, T0 + i * 100), scale('web-old', 21 - i, 20 - i, T0 + i * 100 + 1));
  assert.equal(run(writes).flap, undefined);
});

test('progress resets the count: rewrites under an earlier step do not add up', () => {
  const before = Array.from({ length: 8 }, (_, i) => scale('web-abc', 1, 4, T0 + i * 1000, 'step0'));
  const after = Array.from({ length: 8 }, (_, i) => scale('web-abc', 1, 4, T0 + 10_000 + i * 1000, 'step1'));
  assert.equal(run([...before, ...after]).flap, undefined);
  // The same 16 writes under one key are a loop.
  assert.ok(run([...before, ...after].map((w) => ({ ...w, progress: 'step0' }))).flap);
});

test('rewrites spread wider than the window are not a loop; the window is bounded', () => {
  const spaced = Array.from({ length: 40 }, (_, i) => scale('web-abc', 1, 4, T0 + i * (FLAP_WINDOW_MS / 8)));
  const { kept, flap } = run(spaced);
  assert.equal(flap, undefined);
  assert.ok(kept.length <= 8);
  const many = rememberWrites(
    [],
    Array.from({ length: MAX_WRITES_KEPT + 50 }, (_, i) => scale(`rs-${i}`, 0, 1, T0)),
    T0,
  );
  assert.equal(many.length, MAX_WRITES_KEPT);
  assert.equal(many[0].object, 'ReplicaSet rs-50', 'the oldest go first');
});

test('progressKey moves with generation, revision, step, abort and pauses', () => {
  const p = progressFromStatus(undefined);
  const k = progressKey(1, p);
  assert.equal(progressKey(1, { ...p }), k);
  for (const changed of [
    progressKey(2, p),
    progressKey(1, { ...p, stepIndex: 1 }),
    progressKey(1, { ...p, currentHash: 'x' }),
    progressKey(1, { ...p, aborted: true }),
  ]) {
    assert.notEqual(changed, k);
  }
});

test('writesOf names the object and field each action writes, with the observed value', () => {
  const cluster = new FakeCluster(canarySpec([]), 'shop', 'web');
  cluster.apply({ kind: 'createReplicaSet', hash: 'abc', revision: 1, replicas: 1 });
  cluster.addService('stable');
  const writes = writesOf(
    cluster.snapshot(),
    [
      { kind: 'scaleReplicaSet', name: 'web-abc', replicas: 4 },
      { kind: 'setServiceSelector', service: 'stable', hash: 'abc' },
      { kind: 'restartPods', replicaSet: 'web-abc', before: 'now', max: 1 },
    ],
    T0,
    'k',
  );
  assert.deepEqual(
    writes.map((w) => [w.object, w.field, w.previous, w.value]),
    [
      ['ReplicaSet web-abc', 'spec.replicas', '1', '4'],
      ['Service stable', 'spec.selector', 'none', 'abc'],
    ],
    'restarting pods repeats by design and is not counted',
  );
});

test('the halted status says Progressing False, ReconcileLoop, naming the field', () => {
  const flap = run(Array.from({ length: 30 }, (_, i) => scale('web-abc', 1, 4, T0 + i * 1000))).flap!;
  const nowIso = new Date(T0).toISOString();
  const status = haltedStatus(
    {
      phase: 'Progressing',
      conditions: [
        { type: 'Available', status: 'True', reason: 'AvailableReason', message: 'ok', lastTransitionTime: nowIso, lastUpdateTime: nowIso },
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'x', lastTransitionTime: 'then', lastUpdateTime: 'then' },
      ],
    },
    flap,
    nowIso,
  );
  const progressing = status.conditions!.find((c) => c.type === 'Progressing')!;
  assert.deepEqual([progressing.status, progressing.reason, progressing.lastTransitionTime], ['False', 'ReconcileLoop', nowIso]);
  assert.match(progressing.message, /ReplicaSet web-abc spec.replicas alternated 1↔4/);
  assert.equal(status.phase, 'Degraded');
  assert.equal(status.conditions!.length, 2, 'the other conditions are kept');
});
