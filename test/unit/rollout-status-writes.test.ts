// Which status writes need a workflow task of their own: one that decides something new is
// an ordinary activity, scheduled once the task that decided it is in the history (or waits
// for the next task when its pass's scaling brings one); one that only refreshes counts, or
// was decided in an earlier task, is written from inside the current task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onlyCountsChanged, statusDecisionKey } from '../../domain/rollouts/status-decision';
import type { RolloutStatus } from '../../domain/rollouts/types';
import { RolloutRun } from '../../workflows/rollout-run';

const condition = (type: 'Available' | 'Progressing' | 'Healthy', status: 'True' | 'False', reason: string, message = '', at = '2026-01-01T00:00:00Z') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
  lastUpdateTime: at,
});

const progressing = (step: number, available: number, extra: Partial<RolloutStatus> = {}): RolloutStatus => ({
  phase: 'Progressing',
  message: available < 10 ? 'updated replicas are still becoming available' : 'more replicas need to be updated',
  currentStepIndex: step,
  currentPodHash: 'new',
  stableRS: 'old',
  pauseConditions: null,
  replicas: 12,
  updatedReplicas: 4,
  readyReplicas: available,
  availableReplicas: available,
  conditions: [
    condition('Available', available >= 8 ? 'True' : 'False', 'AvailableReason', '', `2026-01-01T00:00:0${available % 10}Z`),
    condition(
      'Progressing',
      'True',
      'ReplicaSetUpdated',
      available < 10 ? 'updated replicas are still becoming available' : 'more replicas need to be updated',
    ),
    condition('Healthy', 'False', 'RolloutHealthy'),
  ],
  ...extra,
});

test('a status that differs only in its counts decides nothing new', () => {
  assert.equal(onlyCountsChanged(progressing(1, 6), progressing(1, 9)), true, 'counts, the Available condition and the progress message');
  assert.equal(onlyCountsChanged(progressing(1, 6), progressing(2, 6)), false, 'a new step');
  assert.equal(onlyCountsChanged(progressing(1, 6), progressing(1, 6, { phase: 'Paused', message: 'CanaryPauseStep' })), false, 'a new phase');
  assert.equal(
    onlyCountsChanged(progressing(1, 6), progressing(1, 6, { pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:00:00Z' }] })),
    false,
    'a pause',
  );
  assert.equal(onlyCountsChanged(progressing(1, 6), progressing(1, 6, { abort: true })), false, 'an abort');
  const degraded = (message: string) => ({ ...progressing(1, 6), phase: 'Degraded' as const, message });
  assert.equal(onlyCountsChanged(degraded('ReplicaSetError: a'), degraded('ReplicaSetError: b')), false, "a Degraded status's message is a decision");
  const reason = progressing(1, 6);
  reason.conditions![1] = condition('Progressing', 'False', 'ProgressDeadlineExceeded');
  assert.equal(onlyCountsChanged(progressing(1, 6), reason), false, 'a condition that changes its reason');
  assert.equal(onlyCountsChanged(undefined, progressing(1, 6)), false, 'nothing written yet');
  assert.notEqual(statusDecisionKey(progressing(1, 6)), statusDecisionKey(progressing(1, 6, { stableRS: 'newer' })));
});

function run(): RolloutRun {
  return new RolloutRun({ namespace: 'shop', name: 'demo' });
}

test('the first status, and any that decides something new, is an ordinary activity', () => {
  const r = run();
  assert.equal(r.queueStatus(progressing(1, 6)), true, 'a writer starts');
  assert.deepEqual(r.nextToSend(), { status: progressing(1, 6), locally: false });
  r.statusLanded(progressing(1, 6), true);
  assert.equal(r.nextToSend(), undefined);
  r.newTask();
  assert.equal(r.queueStatus(progressing(2, 6)), true);
  assert.equal(r.nextToSend()!.locally, false, 'a new step, decided in this task');
});

test('a status new only in its counts is written from inside the task', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  r.statusLanded(progressing(1, 6), true);
  r.nextToSend();
  assert.equal(r.queueStatus(progressing(1, 8)), true);
  assert.deepEqual(r.nextToSend(), { status: progressing(1, 8), locally: true });
});

test('a status queued behind an ordinary write goes locally once that write completes (a new task)', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  assert.equal(r.queueStatus(progressing(2, 6)), false, 'one write at a time');
  assert.equal(r.queueStatus(progressing(3, 6)), false, 'the newest replaces the unsent');
  assert.equal(r.isWriting(), true);
  r.statusLanded(progressing(1, 6), true);
  assert.deepEqual(r.nextToSend(), { status: progressing(3, 6), locally: true });
  r.statusLanded(progressing(3, 6));
  assert.equal(r.nextToSend(), undefined);
  assert.equal(r.isWriting(), false);
});

test('a deferred status waits for the next task, which a short wait makes sure of', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  r.statusLanded(progressing(1, 6), true);
  r.nextToSend();
  r.waitMs = 60_000;
  assert.equal(r.queueStatus(progressing(2, 6), true), false, 'deferred');
  assert.equal(r.waitFor(), 1_000, 'looks again within a second');
  assert.equal(r.queueStatus(progressing(2, 7)), false, 'the same task, another pass: still deferred');
  assert.equal(r.deferredDue(), false, 'not in the task that decided it');
  r.newTask();
  assert.equal(r.deferredDue(), true);
  assert.deepEqual(r.nextToSend(), { status: progressing(2, 7), locally: true });
  r.statusLanded(progressing(2, 7));
  assert.equal(r.nextToSend(), undefined);
  assert.equal(r.waitFor(), 60_000);
  assert.equal(r.deferredDue(), false, 'nothing left');
});

test('a deferred status still goes before continuing as new, the ordinary way when its task is the current one', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  r.statusLanded(progressing(1, 6), true);
  r.nextToSend();
  r.queueStatus(progressing(2, 6), true);
  assert.equal(r.deferredDue(true), true);
  assert.deepEqual(r.nextToSend(), { status: progressing(2, 6), locally: false });
});

test('a deferred status whose counts alone changed is not held back', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  r.statusLanded(progressing(1, 6), true);
  r.nextToSend();
  assert.equal(r.queueStatus(progressing(1, 7), true), true);
  assert.equal(r.nextToSend()!.locally, true);
});

test('a new phase is not deferred: it goes at once, the ordinary way', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  r.statusLanded(progressing(1, 6), true);
  r.nextToSend();
  const paused = progressing(1, 6, { phase: 'Paused', message: 'CanaryPauseStep' });
  assert.equal(r.queueStatus(paused, true), true);
  assert.deepEqual(r.nextToSend(), { status: paused, locally: false });
});

test('a status queued while an ordinary write was on its way goes back to the loop, due at once', () => {
  const r = run();
  r.queueStatus(progressing(1, 6));
  r.nextToSend();
  r.queueStatus(progressing(2, 6));
  r.changed = false;
  r.statusLanded(progressing(1, 6), true);
  r.ordinaryWriteEnded();
  assert.equal(r.isWriting(), false);
  assert.equal(r.changed, true, 'the loop is woken');
  assert.equal(r.deferredDue(), true);
  assert.deepEqual(r.nextToSend(), { status: progressing(2, 6), locally: true });
});
