// The shared vocabulary: which apiserver answers are refusals, and the one way a sync
// result entry is built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failsResource, isOutOfReach, isRefused, KubeApiError } from '../../k8s/kube-client';
import { planSync } from '../../domain/sync/plan';
import { resourceIdentity, resourceResult, taskResult } from '../../domain/sync/results';
import { HOOK_ANNOTATION } from '../../domain/argo/names';

const answer = (code: number, message = 'no') => new KubeApiError(code, 'Reason', message);

test('refused: bad request, forbidden, invalid, and a schema the patch cannot type; not a missing or changed object', () => {
  for (const code of [400, 403, 422]) assert.equal(isRefused(answer(code)), true, String(code));
  for (const code of [401, 404, 408, 409, 429, 500, 503]) assert.equal(isRefused(answer(code)), false, String(code));
  assert.equal(isRefused(answer(500, 'failed to create typed patch object (/v1, Kind=ConfigMap): .spec: field not declared in schema')), true);
  assert.equal(isRefused(new Error('socket hang up')), false);
});

test("a resource's own failure: refused, or its namespace missing, or a conflict; not throttling or a server error", () => {
  assert.deepEqual(
    [400, 403, 404, 409, 422, 401, 429, 500, 503].map((c) => failsResource(answer(c))),
    [true, true, true, true, true, false, false, false, false],
  );
});

test('out of reach: forbidden or absent, for lookups that then find nothing', () => {
  assert.deepEqual(
    [403, 404, 400, 500].map((c) => isOutOfReach(answer(c))),
    [true, true, false, false],
  );
});

test('a result entry names the resource by group, version, kind, namespace and name', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } };
  assert.deepEqual(resourceIdentity(cm), { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'c' });
  assert.deepEqual(resourceIdentity(deploy, 'v1beta1'), { group: 'apps', version: 'v1beta1', kind: 'Deployment', namespace: '', name: 'web' });
  const pruned = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: '', name: 'web', status: 'Pruned', message: 'pruned', syncPhase: 'Sync' };
  assert.deepEqual(resourceResult(deploy, 'Pruned', 'pruned', 'Sync'), pruned);
});

test("a hook's result entry names its hook type in the phase it ran", () => {
  const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'shop', annotations: { [HOOK_ANNOTATION]: 'PreSync,PostSync' } } };
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };
  const tasks = planSync([job, cm]).steps.flatMap((s) => s.tasks);
  const post = tasks.find((t) => t.isHook && t.phase === 'PostSync')!;
  assert.deepEqual(taskResult(post, 'Synced', 'done', { hookPhase: 'Succeeded' }), {
    ...{ group: 'batch', version: 'v1', kind: 'Job', namespace: 'shop', name: 'migrate' },
    ...{ status: 'Synced', message: 'done', syncPhase: 'PostSync', hookType: 'PostSync', hookPhase: 'Succeeded' },
  });
  const plain = taskResult(
    tasks.find((t) => !t.isHook)!,
    'Synced',
    'configured',
  );
  assert.equal('hookType' in plain, false);
});
