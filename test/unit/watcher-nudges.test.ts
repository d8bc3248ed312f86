// When the watcher nudges a rollout's workflow for a ReplicaSet change: at once when all of
// the rollout's ReplicaSets have settled, else an interim nudge a second later, and later
// interim nudges spaced out until the next immediate one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSettled, interimNudgeDelay, settled } from '../../worker/watcher';
import type { KubeObject } from '../../k8s/kube-client';

const rs = (spec: number, available: number, generation = 2, observed = 2): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'x', namespace: 'ns', generation },
  spec: { replicas: spec },
  status: { observedGeneration: observed, replicas: spec, readyReplicas: available, availableReplicas: available },
});

test('a ReplicaSet has settled once its controller caught up and every pod is available', () => {
  assert.equal(settled(rs(4, 4)), true);
  assert.equal(settled(rs(4, 3)), false);
  assert.equal(settled(rs(4, 4, 3, 2)), false, 'a spec the controller has not seen yet');
  assert.equal(allSettled(rs(4, 4), [rs(4, 4), rs(6, 5)]), false, 'the other side still moving');
  assert.equal(allSettled(rs(4, 4), [rs(4, 4), rs(6, 6)]), true);
});

test('the first interim nudge comes after a second, later ones at least three seconds after the previous', () => {
  assert.equal(interimNudgeDelay(undefined, 10_000), 1000);
  assert.equal(interimNudgeDelay(9_000, 10_000), 2000, 'the previous went out a second ago');
  assert.equal(interimNudgeDelay(9_500, 10_000), 2500);
  assert.equal(interimNudgeDelay(5_000, 10_000), 1000, 'never sooner than a second');
});
