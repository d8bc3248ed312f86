import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passConditions, resourcesStatus } from '../../domain/applicationsets/status';
import { gitSources } from '../../domain/applicationsets/generators/transform';

test('conditions: success and failure as Argo writes them; lastTransitionTime kept while a status holds', () => {
  const ok = passConditions({ ok: true }, [], 't1');
  assert.deepEqual(
    ok.map((c) => [c.type, c.status, c.reason]),
    [
      ['ErrorOccurred', 'False', 'ApplicationSetUpToDate'],
      ['ParametersGenerated', 'True', 'ParametersGenerated'],
      ['ResourcesUpToDate', 'True', 'ApplicationSetUpToDate'],
    ],
  );
  const failed = passConditions({ ok: false, message: 'git unreachable', reason: 'ApplicationParamsGenerationError', parametersGenerated: false }, ok, 't2');
  assert.deepEqual(
    failed.map((c) => [c.type, c.status, c.lastTransitionTime]),
    [
      ['ErrorOccurred', 'True', 't2'],
      ['ParametersGenerated', 'False', 't2'],
      ['ResourcesUpToDate', 'False', 't2'],
    ],
  );
  assert.equal(failed[0]!.message, 'git unreachable');
  const invalid = passConditions({ ok: false, message: 'duplicate', reason: 'ApplicationValidationError', parametersGenerated: true }, failed, 't3');
  assert.deepEqual(
    invalid.map((c) => [c.status, c.lastTransitionTime]),
    [
      ['True', 't2'],
      ['True', 't3'],
      ['False', 't2'],
    ],
  );
  assert.deepEqual(resourcesStatus('ns', [{ name: 'a', health: 'Healthy', sync: 'Synced' }, { name: 'b' }]), [
    { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application', namespace: 'ns', name: 'a', status: 'Synced', health: { status: 'Healthy' } },
    { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application', namespace: 'ns', name: 'b' },
  ]);
});

test('gitSources: the repositories git generators read, matrix and merge children included (webhook refresh)', () => {
  assert.deepEqual(gitSources({ matrix: { generators: [{ list: {} }, { git: { repoURL: 'https://r', revision: 'main' } }] } }), [
    { repoURL: 'https://r', targetRevision: 'main' },
  ]);
  assert.deepEqual(gitSources({ git: { repoURL: 'https://r' } }), [{ repoURL: 'https://r', targetRevision: '' }]);
  assert.deepEqual(gitSources({ list: {} }), []);
});
