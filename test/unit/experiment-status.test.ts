// An Experiment gets a clear "not supported yet" status, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPERIMENT_NOT_SUPPORTED_MESSAGE, notSupportedStatus } from '../../worker/experiment-watcher';
import { readCrds } from '../../k8s/install-crds';

const experiment = (status?: unknown) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Experiment',
  metadata: { name: 'e', namespace: 'n', uid: 'u' },
  spec: { templates: [] },
  status,
});

test('a new Experiment is given phase Error and a message that says experiments are not supported yet', () => {
  const status = notSupportedStatus(experiment(), new Date('2026-01-01T00:00:00Z'));
  assert.equal(status?.phase, 'Error');
  assert.match(String(status?.message), /^Experiments are not supported yet/);
  const conditions = status?.conditions as { type: string; status: string; reason: string }[];
  assert.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason]),
    [['Progressing', 'False', 'ExperimentsNotSupported']],
  );
});

test('an Experiment that already says so is not written again', () => {
  assert.equal(notSupportedStatus(experiment({ phase: 'Error', message: EXPERIMENT_NOT_SUPPORTED_MESSAGE }), new Date()), undefined);
  assert.ok(notSupportedStatus(experiment({ phase: 'Running' }), new Date()), 'a status someone else wrote is corrected');
});

test('the Experiment CRD is installed with the others', () => {
  const crd = readCrds().find((c) => c.metadata.name === 'experiments.argoproj.io');
  assert.ok(crd);
  assert.equal((crd.spec as { names: { kind: string } }).names.kind, 'Experiment');
});
