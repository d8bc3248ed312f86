import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideAutoSync,
  historyEntry,
  projectStatus,
  reconcileJitterMs,
  refreshAskedWhen,
  retryDelayMs,
  SELF_HEAL_BACKOFF_MS,
} from '../../domain/applications/reconcile';
import type { Comparison, ResourceStatus } from '../../domain/applications/types';

const res = (status: ResourceStatus['status'], extra: Partial<ResourceStatus> = {}): ResourceStatus => ({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  namespace: 'n',
  name: 'd',
  status,
  ...extra,
});
const cmp = (resources: ResourceStatus[], revision = 'a'.repeat(40)): Comparison => ({
  revision,
  resources,
  syncStatus: resources.some((r) => r.status === 'OutOfSync') ? 'OutOfSync' : 'Synced',
  health: 'Healthy',
  kinds: [],
});
const auto = (automated: object) => ({ syncPolicy: { automated } });

test('jitter is stable per name and within bounds', () => {
  assert.equal(reconcileJitterMs('ns/app', 60_000), reconcileJitterMs('ns/app', 60_000));
  assert.ok(reconcileJitterMs('ns/app', 60_000) < 60_000);
  assert.notEqual(reconcileJitterMs('ns/a', 60_000), reconcileJitterMs('ns/b', 60_000));
  assert.equal(reconcileJitterMs('x', 0), 0);
});

test('automated sync: once per revision; selfHeal re-syncs after the backoff', () => {
  const out = cmp([res('OutOfSync')]);
  assert.equal(decideAutoSync({}, out, undefined, 0).sync, false);
  assert.equal(decideAutoSync(auto({}), cmp([res('Synced')]), undefined, 0).sync, false);
  assert.equal(decideAutoSync(auto({}), out, undefined, 0).sync, true);
  const last = { revision: out.revision!, atMs: 1000, phase: 'Succeeded' };
  assert.equal(decideAutoSync(auto({}), out, last, 100_000).sync, false, 'the same revision is not synced twice without selfHeal');
  assert.equal(decideAutoSync(auto({}), cmp([res('OutOfSync')], 'b'.repeat(40)), last, 2000).sync, true, 'a new revision is');
  const early = decideAutoSync(auto({ selfHeal: true }), out, last, 2000);
  assert.deepEqual(early, { sync: false, reason: 'self-heal backoff', retryInMs: 1000 + SELF_HEAL_BACKOFF_MS - 2000 });
  assert.equal(decideAutoSync(auto({ selfHeal: true }), out, last, 1000 + SELF_HEAL_BACKOFF_MS).sync, true);
  assert.equal(decideAutoSync(auto({ selfHeal: true }), out, { ...last, phase: 'Failed' }, 100_000).sync, false, 'a failed revision is not retried here');
});

test('automated sync skips prune-only differences without prune, and errors', () => {
  const pruneOnly = cmp([res('Synced', { name: 'a' }), res('OutOfSync', { name: 'b', requiresPruning: true })]);
  assert.equal(decideAutoSync(auto({}), pruneOnly, undefined, 0).sync, false);
  assert.equal(decideAutoSync(auto({ prune: true }), pruneOnly, undefined, 0).sync, true);
  assert.equal(decideAutoSync(auto({}), { ...pruneOnly, error: 'boom' }, undefined, 0).sync, false);
});

test('retry backoff: duration × factor^(n-1), capped, limited', () => {
  const retry = { limit: 3, backoff: { duration: '2s', factor: 3, maxDuration: '10s' } };
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelayMs(retry, n)),
    [2000, 6000, 10_000, undefined],
  );
  assert.equal(retryDelayMs(undefined, 1), undefined);
  assert.equal(retryDelayMs({ limit: -1 }, 50), 180_000, 'negative limit retries forever, Argo defaults 5s ×2 ≤ 3m');
});

test('status projection: Argo CD shape; a ComparisonError keeps the last good resources', () => {
  const good = { ...cmp([res('Synced', { health: { status: 'Healthy' } })]), sourceType: 'Kustomize' };
  const s = projectStatus({ spec: {}, comparison: good, history: [], reconciledAt: 't1' }) as any;
  assert.equal(s.sync.status, 'Synced');
  assert.equal(s.sync.revision, good.revision);
  assert.equal(s.health.status, 'Healthy');
  assert.equal(s.conditions, null);
  assert.equal(s.sourceType, 'Kustomize');
  const failing: Comparison = { resources: [], syncStatus: 'Unknown', health: 'Unknown', error: 'git fetch failed', kinds: [] };
  const e = projectStatus({ spec: {}, comparison: failing, lastGood: good, history: [], reconciledAt: 't2', errorSince: 't0' }) as any;
  assert.equal(e.sync.status, 'Unknown');
  assert.equal(e.sync.revision, good.revision);
  assert.equal(e.resources.length, 1);
  assert.deepEqual(e.conditions, [{ type: 'ComparisonError', message: 'git fetch failed', lastTransitionTime: 't0' }]);
});

test('history ids increase and the object keeps revisionHistoryLimit entries', () => {
  const h1 = historyEntry([], 'r1', { repoURL: 'u' }, 's', 'f', { automated: true });
  const h2 = historyEntry([h1], 'r2', { repoURL: 'u' }, 's', 'f', { automated: true });
  assert.deepEqual([h1.id, h2.id], [0, 1]);
  const s = projectStatus({ spec: { revisionHistoryLimit: 1 }, comparison: cmp([]), history: [h1, h2], reconciledAt: 't' }) as any;
  assert.deepEqual(
    s.history.map((h: any) => h.revision),
    ['r2'],
  );
});

test("a refresh is read as of its sender's time, within a minute before now and never after it", () => {
  const now = 1_000_000;
  assert.equal(refreshAskedWhen(now, undefined), now);
  assert.equal(refreshAskedWhen(now, now - 3_000), now - 3_000, 'taken 3 s after it was asked: a fetch since then serves it');
  assert.equal(refreshAskedWhen(now, now + 5_000), now, "a sender's clock ahead counts as now");
  assert.equal(refreshAskedWhen(now, now - 3_600_000), now - 60_000, "a sender's clock far behind is not trusted further than a minute");
});
