// Which changes of a managed object nudge its Application: not a sync's own apply (the
// compare after the sync reads it), but any later write by anyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedLastBySync } from '../../worker/application-watcher';
import type { KubeObject } from '../../k8s/kube-client';

const withFields = (...entries: { manager: string; operation: string; time: string; subresource?: string }[]): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'shop', managedFields: entries } }) as unknown as KubeObject;

test("a sync's apply is the last write: no nudge needed", () => {
  assert.equal(appliedLastBySync(withFields({ manager: 'sluice', operation: 'Apply', time: '2026-11-22T10:00:05Z' })), true);
  assert.equal(
    appliedLastBySync(
      withFields(
        { manager: 'kubectl-client-side-apply', operation: 'Update', time: '2026-11-22T10:00:01Z' },
        { manager: 'sluice', operation: 'Apply', time: '2026-11-22T10:00:05Z' },
      ),
    ),
    true,
  );
});

test('an edit, a controller or a rollout after the apply (or in the same second) is drift', () => {
  assert.equal(
    appliedLastBySync(
      withFields(
        { manager: 'sluice', operation: 'Apply', time: '2026-11-22T10:00:05Z' },
        { manager: 'kubectl-edit', operation: 'Update', time: '2026-11-22T10:00:09Z' },
      ),
    ),
    false,
  );
  assert.equal(
    appliedLastBySync(
      withFields(
        { manager: 'sluice', operation: 'Apply', time: '2026-11-22T10:00:05Z' },
        { manager: 'kubectl-edit', operation: 'Update', time: '2026-11-22T10:00:05Z' },
      ),
    ),
    false,
    'same second',
  );
  assert.equal(
    appliedLastBySync(withFields({ manager: 'sluice', operation: 'Update', time: '2026-11-22T10:00:05Z' })),
    false,
    "Sluice's merge patches (rollouts, Replace=true) are not a sync's apply",
  );
  assert.equal(appliedLastBySync(withFields()), false, 'no managed fields: cannot tell');
});
