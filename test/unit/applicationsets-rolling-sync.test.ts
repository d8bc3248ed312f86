import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { advanceRollout, assignSteps, rolloutCondition, type ApplicationProgress, type ObservedApplication } from '../../domain/applicationsets/rolling-sync';
import { appSet } from '../support/applicationsets';

const rolling = (maxUpdate?: number | string) =>
  appSet({
    strategy: {
      type: 'RollingSync',
      rollingSync: {
        steps: [
          { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }], maxUpdate },
          { matchExpressions: [{ key: 'env', operator: 'In', values: ['staging'] }] },
          { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
        ],
      },
    },
  });

const app = (name: string, env: string, extra: Partial<ObservedApplication> = {}): ObservedApplication => ({
  name,
  labels: { env },
  generation: 1,
  sync: 'OutOfSync',
  health: 'Missing',
  revisions: ['r1'],
  ...extra,
});

test('steps: In / NotIn on labels, a missing key deselects only for In, first step wins, empty steps reported', () => {
  const a = appSet({
    strategy: {
      type: 'RollingSync',
      rollingSync: {
        steps: [
          { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
          { matchExpressions: [] },
          { matchExpressions: [{ key: 'x', operator: 'In', values: ['y'] }] },
        ],
      },
    },
  });
  const { stepOf, issues } = assignSteps(a, [
    { name: 'dev', labels: { env: 'dev' } },
    { name: 'prod', labels: { env: 'prod' } },
    { name: 'none', labels: {} },
  ]);
  assert.deepEqual(Object.fromEntries(stepOf), { dev: 0, prod: 1, none: 0 });
  assert.ok(issues.includes('step 3 selects no Application'));
});

test('dev first, then staging, then prod, each after the previous is Healthy; each Application asked to sync once', () => {
  const a = rolling();
  let apps = [app('d', 'dev'), app('s', 'staging'), app('p', 'prod')];
  let statuses: ApplicationProgress[] = [];
  const synced: string[] = [];
  const tick = (t: string) => {
    const r = advanceRollout(a, statuses, apps, t);
    statuses = r.statuses;
    synced.push(...r.toSync);
    return r;
  };
  assert.deepEqual(tick('t01').toSync, ['d']);
  assert.deepEqual(tick('t02').toSync, []); // still Pending
  apps = apps.map((x) => (x.name === 'd' ? { ...x, operationStartedAt: 't03', operationPhase: 'Running' } : x));
  tick('t04');
  assert.equal(statuses.find((s) => s.application === 'd')!.status, 'Progressing');
  assert.deepEqual(rolloutCondition(statuses).message, 'ApplicationSet is performing rollout of step 1');
  apps = apps.map((x) => (x.name === 'd' ? { ...x, sync: 'Synced', health: 'Healthy' } : x));
  assert.deepEqual(tick('t05').toSync, ['s']);
  apps = apps.map((x) => (x.name === 's' ? { ...x, operationStartedAt: 't06', sync: 'Synced', health: 'Healthy' } : x));
  tick('t07');
  assert.deepEqual(tick('t08').toSync, ['p']);
  apps = apps.map((x) => (x.name === 'p' ? { ...x, operationStartedAt: 't09', sync: 'Synced', health: 'Healthy' } : x));
  tick('t10');
  tick('t11');
  assert.deepEqual(synced, ['d', 's', 'p']);
  assert.deepEqual(rolloutCondition(statuses).status, 'False');
  // A new revision: Waiting again, then synced again in order.
  apps = apps.map((x) => ({ ...x, revisions: ['r2'], sync: 'OutOfSync' }));
  assert.deepEqual(tick('t12').toSync, ['d']);
});

test('maxUpdate: a number or a percent of the step (at least one unless 0%)', () => {
  const apps = ['a', 'b', 'c', 'd'].map((n) => app(n, 'dev'));
  assert.deepEqual(advanceRollout(rolling(2), [], apps, 't').toSync, ['a', 'b']);
  assert.deepEqual(advanceRollout(rolling('50%'), [], apps, 't').toSync, ['a', 'b']);
  assert.deepEqual(advanceRollout(rolling('10%'), [], apps, 't').toSync, ['a']);
  assert.deepEqual(advanceRollout(rolling(), [], apps, 't').toSync, ['a', 'b', 'c', 'd']);
  const bad = advanceRollout(rolling('two'), [], apps, 't');
  assert.equal(bad.toSync.length, 4);
  assert.match(bad.issues.join(), /invalid maxUpdate/);
});

test('property: a step never syncs before every earlier step is Healthy; no Application is asked twice for one revision', () => {
  const envs = ['dev', 'staging', 'prod'];
  fc.assert(
    fc.property(
      fc.array(fc.record({ env: fc.constantFrom(...envs) }), { minLength: 1, maxLength: 9 }),
      fc.array(fc.record({ pick: fc.nat(), health: fc.constantFrom('Healthy', 'Progressing', 'Degraded') }), { maxLength: 40 }),
      fc.constantFrom<number | string | undefined>(undefined, 1, '50%'),
      (specs, events, maxUpdate) => {
        const a = rolling(maxUpdate);
        const apps = specs.map((s, i) => app(`a${i}`, s.env));
        let statuses: ApplicationProgress[] = [];
        const asked = new Set<string>();
        let t = 0;
        const stamp = () => `t${String(++t).padStart(4, '0')}`;
        for (const e of [...events, ...events.map(() => ({ pick: 0, health: 'Healthy' }))]) {
          const r = advanceRollout(a, statuses, apps, stamp());
          statuses = r.statuses;
          for (const n of r.toSync) {
            assert.ok(!asked.has(n), `${n} asked twice`);
            asked.add(n);
            const step = envs.indexOf(apps.find((x) => x.name === n)!.labels.env!);
            for (const other of apps)
              if (envs.indexOf(other.labels.env!) < step) assert.equal(statuses.find((s) => s.application === other.name)!.status, 'Healthy');
          }
          // The world: some Application that was asked starts its sync and reports a health.
          const pending = apps.filter((x) => asked.has(x.name));
          if (pending.length > 0) {
            const x = pending[e.pick % pending.length]!;
            x.operationStartedAt = stamp();
            x.sync = 'Synced';
            x.health = e.health;
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('the first revision an Application reports is not a change: a Pending Application is not asked to sync again', () => {
  const set = rolling();
  const first = advanceRollout(set, [], [app('d', 'dev', { revisions: [] })], 't1', { firstRevisionsAreNoChange: true });
  assert.deepEqual(first.toSync, ['d']);
  // Its controller compared it and started the sync: a revision appears, it stays Pending, nothing asked again.
  const second = advanceRollout(set, first.statuses, [app('d', 'dev', { revisions: ['r1'] })], 't2', { firstRevisionsAreNoChange: true });
  assert.deepEqual(second.toSync, []);
  assert.equal(second.statuses[0]!.status, 'Pending');
  assert.deepEqual(second.statuses[0]!.targetRevisions, ['r1']);
  // A later revision is a change, as in Argo.
  const third = advanceRollout(set, second.statuses, [app('d', 'dev', { revisions: ['r2'] })], 't3', { firstRevisionsAreNoChange: true });
  assert.equal(third.statuses[0]!.status, 'Pending');
  assert.deepEqual(third.toSync, ['d']);
  // Without the option (histories recorded before it), the old behaviour: asked again.
  assert.deepEqual(advanceRollout(set, first.statuses, [app('d', 'dev', { revisions: ['r1'] })], 't2').toSync, ['d']);
});
