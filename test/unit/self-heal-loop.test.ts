// The Application runaway guard's pure rules: when self-heals make a loop, and what lets go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detectSelfHealLoop,
  rememberSelfHeal,
  selfHealLoopHolds,
  SELF_HEAL_LOOP_LIMIT,
  SELF_HEAL_LOOP_WINDOW_MS,
  specKeyOf,
  type SelfHeal,
} from '../../domain/applications/self-heal-loop';
import { decideAutoSync, projectStatus } from '../../domain/applications/reconcile';
import type { ApplicationSpec, Comparison } from '../../domain/applications/types';

const REV = 'a'.repeat(40);
const heal = (atMs: number, resources = ['/ConfigMap/shop/settings'], revision = REV, specKey = 'k'): SelfHeal => ({ revision, specKey, atMs, resources });

function healsEvery(ms: number, n: number, make: (atMs: number) => SelfHeal = (t) => heal(t)): SelfHeal[] {
  let kept: SelfHeal[] = [];
  for (let i = 0; i < n; i++) kept = rememberSelfHeal(kept, make(i * ms), i * ms);
  return kept;
}

test('the limit: more than SELF_HEAL_LOOP_LIMIT self-heals of one resource in the window is a loop, exactly that many is not', () => {
  const at = (n: number) => (n - 1) * 5_000;
  assert.equal(detectSelfHealLoop(healsEvery(5_000, SELF_HEAL_LOOP_LIMIT), at(SELF_HEAL_LOOP_LIMIT)), undefined);
  const loop = detectSelfHealLoop(healsEvery(5_000, SELF_HEAL_LOOP_LIMIT + 1), at(SELF_HEAL_LOOP_LIMIT + 1));
  assert.ok(loop);
  assert.equal(loop.resource, '/ConfigMap/shop/settings');
  assert.match(loop.message, /drifted from Git again after 10 self-heal syncs within 5 min at revision aaaaaaa/);
});

test('self-heals spread wider than the window never make a loop (an occasional drift is what self-heal is for)', () => {
  const spacing = SELF_HEAL_LOOP_WINDOW_MS / SELF_HEAL_LOOP_LIMIT + 1;
  const kept = healsEvery(spacing, 100);
  assert.equal(detectSelfHealLoop(kept, 99 * spacing), undefined);
  assert.ok(kept.length <= SELF_HEAL_LOOP_LIMIT + 1, 'old self-heals leave the window');
});

test('only self-heals at the latest revision and spec count; different resources are counted apart', () => {
  const mixed = healsEvery(1_000, 2 * SELF_HEAL_LOOP_LIMIT, (t) => heal(t, ['/ConfigMap/shop/settings'], t % 2000 === 0 ? REV : 'b'.repeat(40)));
  assert.equal(detectSelfHealLoop(mixed, 2 * SELF_HEAL_LOOP_LIMIT * 1_000), undefined);
  const alternating = healsEvery(1_000, 2 * SELF_HEAL_LOOP_LIMIT, (t) => heal(t, [t % 2000 === 0 ? '/ConfigMap/shop/a' : '/ConfigMap/shop/b']));
  assert.equal(detectSelfHealLoop(alternating, 2 * SELF_HEAL_LOOP_LIMIT * 1_000), undefined);
});

test('the stop holds at its revision and spec, and lets go at a new one', () => {
  const spec: ApplicationSpec = { source: { repoURL: 'https://git.example.com/r', path: 'shop' }, syncPolicy: { automated: { selfHeal: true } } };
  const key = specKeyOf(spec);
  const loop = { revision: REV, specKey: key, resource: 'x', message: 'm' };
  assert.equal(selfHealLoopHolds(loop, REV, key), true);
  assert.equal(selfHealLoopHolds(loop, 'b'.repeat(40), key), false);
  assert.equal(selfHealLoopHolds(loop, REV, specKeyOf({ ...spec, source: { ...spec.source!, path: 'other' } })), false);
});

test('decideAutoSync: a stopped self-heal does not sync, a new revision still does; the status shows ReconcileLoop', () => {
  const spec: ApplicationSpec = { source: { repoURL: 'https://git.example.com/r', path: 'shop' }, syncPolicy: { automated: { selfHeal: true } } };
  const comparison: Comparison = {
    revision: REV,
    resources: [{ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'settings', status: 'OutOfSync', health: { status: 'Healthy' } }],
    syncStatus: 'OutOfSync',
    health: 'Healthy',
    kinds: [],
  };
  const last = { revision: REV, atMs: 0, phase: 'Succeeded' };
  assert.deepEqual(decideAutoSync(spec, comparison, last, 60_000), { sync: true, reason: 'self-heal: live state drifted from Git', selfHeal: true });
  assert.equal(decideAutoSync(spec, comparison, last, 60_000, { stopped: 'stopped' }).sync, false);
  assert.equal(decideAutoSync(spec, { ...comparison, revision: 'c'.repeat(40) }, last, 60_000, { stopped: 'stopped' }).sync, true);
  assert.equal(decideAutoSync(spec, comparison, last, 100, { backoffMs: 50 }).sync, true);
  const status = projectStatus({ spec, comparison, history: [], reconciledAt: 'now', reconcileLoop: 'self-heal stopped: …' });
  assert.deepEqual(status.conditions, [{ type: 'ReconcileLoop', message: 'self-heal stopped: …' }]);
});
