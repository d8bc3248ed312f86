// Sharing out the watchers' signals among replicas: every workflow has exactly one owner
// among the live replicas, a replica leaving moves only its own share, and a nudge parked
// for another replica's workflow goes out when this replica gains that workflow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerOf, type Shards } from '../../worker/replica-shards';
import { Nudger } from '../../worker/nudger';

const keys = Array.from({ length: 3000 }, (_, i) => `rollout/shop/ro-${i}`);

test('one owner per workflow, shares about even, a leaving replica moves only its own share', () => {
  const live = ['a1', 'b2', 'c3'];
  const owners = keys.map((k) => ownerOf(k, live)!);
  for (const id of live) {
    const share = owners.filter((o) => o === id).length / keys.length;
    assert.ok(share > 0.25 && share < 0.42, `${id} owns ${share}`);
  }
  const after = keys.map((k) => ownerOf(k, ['a1', 'c3'])!);
  keys.forEach((_, i) => {
    if (owners[i] !== 'b2') assert.equal(after[i], owners[i], 'a workflow of a replica that stayed keeps its owner');
    else assert.ok(after[i] === 'a1' || after[i] === 'c3');
  });
  assert.equal(ownerOf('x', []), undefined);
});

test('a nudge for a workflow another replica owns is parked, and sent once this replica gains it', async () => {
  let mine = new Set(['w1']);
  let changed: () => void = () => undefined;
  const shards: Shards = { owns: (k) => mine.has(k), onChange: (l) => ((changed = l), () => undefined) };
  const sent: string[] = [];
  const nudger = new Nudger(() => undefined, shards);
  nudger.nudge('w1', async () => void sent.push('w1'));
  nudger.nudge('w2', async () => void sent.push('w2 first'));
  nudger.nudge('w2', async () => void sent.push('w2 latest'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, ['w1']);
  mine = new Set(['w1', 'w2']);
  changed();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, ['w1', 'w2 latest'], 'only the latest parked nudge, once');
  changed();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, ['w1', 'w2 latest']);
});
