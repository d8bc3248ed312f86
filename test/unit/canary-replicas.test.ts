import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atDesiredCanaryCounts, desiredCanaryCounts, nextCanaryScale, type CanaryScaleInput } from '../../domain/rollouts/canary-replicas';
import { rolloutBudgets } from '../../domain/argo/int-or-percent';

const rs = (specReplicas: number, availableReplicas = specReplicas) => ({ specReplicas, availableReplicas });

function input(partial: Partial<CanaryScaleInput> & Pick<CanaryScaleInput, 'replicas' | 'weight'>): CanaryScaleInput {
  return { trafficRouted: false, maxSurge: 1, maxUnavailable: 0, others: [], ...partial };
}

test('desired counts round both sides up at a partial weight', () => {
  assert.deepEqual(desiredCanaryCounts(input({ replicas: 3, weight: 33, stable: rs(3) })), { canary: 1, stable: 3 });
  assert.deepEqual(desiredCanaryCounts(input({ replicas: 3, weight: 66, stable: rs(3) })), { canary: 2, stable: 2 });
  assert.deepEqual(desiredCanaryCounts(input({ replicas: 10, weight: 30, stable: rs(10) })), { canary: 3, stable: 7 });
});

test('without a stable ReplicaSet the new one takes every replica', () => {
  assert.deepEqual(desiredCanaryCounts(input({ replicas: 3, weight: 33 })), { canary: 3, stable: 0 });
});

test('traffic-routed canaries keep the stable side at full size', () => {
  assert.deepEqual(desiredCanaryCounts(input({ replicas: 4, weight: 50, stable: rs(4), trafficRouted: true })), { canary: 2, stable: 4 });
});

// Cases from Argo Rollouts' description of its replica arithmetic, checked against its code.
const cases: [string, CanaryScaleInput, { canary: number; stable: number }][] = [
  [
    '10 replicas, 10%, surge 1, unavailable 1',
    input({ replicas: 10, weight: 10, maxSurge: 1, maxUnavailable: 1, canary: rs(0), stable: rs(10) }),
    { canary: 1, stable: 9 },
  ],
  [
    '10 replicas, 30%, surge 3, unavailable 0',
    input({ replicas: 10, weight: 30, maxSurge: 3, maxUnavailable: 0, canary: rs(0), stable: rs(10) }),
    { canary: 3, stable: 10 },
  ],
  [
    '10 replicas, 30%, surge 0, unavailable 5',
    input({ replicas: 10, weight: 30, maxSurge: 0, maxUnavailable: 5, canary: rs(0), stable: rs(10) }),
    { canary: 0, stable: 7 },
  ],
  // 5% of 10 is 0.5: both sides round up (1 and 10) and the surge grows by one to fit both.
  [
    '10 replicas, 5%, surge 1, unavailable 1',
    input({ replicas: 10, weight: 5, maxSurge: 1, maxUnavailable: 1, canary: rs(0), stable: rs(10) }),
    { canary: 1, stable: 10 },
  ],
  ['1 replica, 5%, surge 1', input({ replicas: 1, weight: 5, maxSurge: 1, maxUnavailable: 0, canary: rs(0), stable: rs(1) }), { canary: 1, stable: 1 }],
  ['1 replica, 95%, surge 1', input({ replicas: 1, weight: 95, maxSurge: 1, maxUnavailable: 0, canary: rs(0), stable: rs(1) }), { canary: 1, stable: 1 }],
];
for (const [name, given, want] of cases) {
  test(`next scale: ${name}`, () => assert.deepEqual(nextCanaryScale(given), want));
}

test('older ReplicaSets are drained before the canary or stable shrink', () => {
  const got = nextCanaryScale(input({ replicas: 4, weight: 50, maxSurge: 1, maxUnavailable: 1, canary: rs(2), stable: rs(4), others: [rs(1)] }));
  assert.deepEqual(got, { canary: 2, stable: 4 });
});

test('an abort (weight 0) shrinks the canary even when its pods are unavailable', () => {
  const got = nextCanaryScale(input({ replicas: 3, weight: 0, maxSurge: 1, maxUnavailable: 0, canary: rs(2, 0), stable: rs(2) }));
  assert.ok(got.stable >= 2);
  assert.ok(got.canary < 2, `canary should shrink, got ${got.canary}`);
});

test('canary-basic walks 33 → 66 → 100 without exceeding surge or losing availability', () => {
  const { maxSurge, maxUnavailable } = rolloutBudgets(3, undefined, undefined);
  assert.deepEqual({ maxSurge, maxUnavailable }, { maxSurge: 1, maxUnavailable: 0 });
  let canary = rs(0);
  let stable = rs(3);
  for (const weight of [33, 66, 100]) {
    for (let i = 0; i < 10; i++) {
      const step = input({ replicas: 3, weight, maxSurge, maxUnavailable, canary, stable });
      if (atDesiredCanaryCounts(step)) break;
      const next = nextCanaryScale(step);
      assert.ok(next.canary + next.stable <= 3 + maxSurge + 1, `total ${next.canary + next.stable} over budget at ${weight}%`);
      // Pods become available at once here; availability must stay at 3 or more.
      assert.ok(
        Math.min(next.canary, canary.availableReplicas) + Math.min(next.stable, stable.availableReplicas) >= 3 - maxUnavailable ||
          next.canary > canary.specReplicas,
      );
      canary = rs(next.canary);
      stable = rs(next.stable);
    }
    assert.ok(atDesiredCanaryCounts(input({ replicas: 3, weight, maxSurge, maxUnavailable, canary, stable })), `did not settle at ${weight}%`);
  }
  assert.deepEqual({ canary: canary.specReplicas, stable: stable.specReplicas }, { canary: 3, stable: 0 });
});

test('budgets: percentages round surge up and unavailability down; both zero becomes one unavailable', () => {
  assert.deepEqual(rolloutBudgets(10, '25%', '25%'), { maxSurge: 3, maxUnavailable: 2 });
  assert.deepEqual(rolloutBudgets(5, 0, 0), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(rolloutBudgets(5, 2, '100%'), { maxSurge: 2, maxUnavailable: 5 });
});
