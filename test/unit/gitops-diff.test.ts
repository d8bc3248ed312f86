import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differs, normalizeForDiff, parseJsonPointer, removeFieldSet, unifiedDiff } from '../../domain/applications/diff';

const live = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '7',
    generation: 3,
    managedFields: [{ manager: 'x' }],
    annotations: { 'deployment.kubernetes.io/revision': '2', keep: 'me' },
  },
  spec: { replicas: 3, template: { spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } },
  status: { readyReplicas: 3 },
};

test('normalisation drops server-owned fields and status, keeps the rest', () => {
  const n = normalizeForDiff(live);
  assert.deepEqual(n.metadata, { annotations: { keep: 'me' }, name: 'web', namespace: 'shop' });
  assert.equal(n.status, undefined);
  assert.equal((n as any).spec.replicas, 3);
});

test('differs: a changed image differs; server fields alone do not; ignoreDifferences jsonPointers hide a field', () => {
  const same = { ...live, metadata: { ...live.metadata, resourceVersion: '8', uid: 'u2' }, status: {} };
  assert.equal(differs(same, live), false);
  const changed = JSON.parse(JSON.stringify(live));
  changed.spec.template.spec.containers[0].image = 'nginx:2';
  assert.equal(differs(changed, live), true);
  const scaled = JSON.parse(JSON.stringify(live));
  scaled.spec.replicas = 5;
  assert.equal(differs(scaled, live), true);
  assert.equal(differs(scaled, live, [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }]), false);
  assert.equal(differs(scaled, live, [{ group: 'apps', kind: 'Deployment', name: 'other', jsonPointers: ['/spec/replicas'] }]), true);
});

test('JSON pointers unescape ~1 and ~0', () => {
  assert.deepEqual(parseJsonPointer('/metadata/annotations/a~1b~0c'), ['metadata', 'annotations', 'a/b~c']);
  assert.throws(() => parseJsonPointer('spec'), /must start with/);
});

test('unified diff shows changed lines with context and hunk headers', () => {
  const d = unifiedDiff('a\nb\nc\nd\n', 'a\nb\nC\nd\n', { from: 'live', to: 'git' }, 1);
  assert.equal(d, '--- live\n+++ git\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n');
  assert.equal(unifiedDiff('x\n', 'x\n', { from: 'a', to: 'b' }), '');
  assert.equal(unifiedDiff('', 'new\n', { from: 'a', to: 'b' }), '--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n');
});

test("managedFieldsManagers: fields another manager owns (an HPA's replicas, an edited image) are ignored", () => {
  const owned = JSON.parse(JSON.stringify(live));
  owned.spec.replicas = 7;
  owned.spec.template.spec.containers[0].image = 'nginx:edited';
  owned.metadata.managedFields = [
    {
      manager: 'sluice',
      operation: 'Apply',
      fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {} } } } } } },
    },
    { manager: 'hpa-controller', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    {
      manager: 'kubectl-edit',
      operation: 'Update',
      fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } } } } },
    },
  ];
  const ignore = (managers: string[]) => [{ group: 'apps', kind: 'Deployment', managedFieldsManagers: managers }];
  assert.equal(differs(live, owned), true);
  assert.equal(differs(live, owned, ignore(['hpa-controller'])), true, 'the image still differs');
  assert.equal(differs(live, owned, ignore(['hpa-controller', 'kubectl-edit'])), false);
});

test('removeFieldSet reads f:, k:, v: and i: keys', () => {
  const obj: any = {
    a: 1,
    b: { c: 2, d: 3 },
    list: [
      { name: 'x', v: 1 },
      { name: 'y', v: 2 },
    ],
    set: ['p', 'q'],
    idx: ['0', '1'],
  };
  removeFieldSet(obj, { 'f:a': {}, 'f:b': { 'f:c': {} }, 'f:list': { 'k:{"name":"y"}': { 'f:v': {} } }, 'f:set': { 'v:"p"': {} }, 'f:idx': { 'i:1': {} } });
  assert.deepEqual(obj, { b: { d: 3 }, list: [{ name: 'x', v: 1 }, { name: 'y' }], set: ['q'], idx: ['0'] });
});
