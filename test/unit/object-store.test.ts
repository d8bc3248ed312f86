import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore } from '../../k8s/object-store';
import type { KubeObject } from '../../k8s/kube-client';

const rs = (name: string, rv: string, replicas: number, owner = 'ro-uid'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name,
    namespace: 'ns',
    resourceVersion: rv,
    ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'ro', uid: owner, controller: true }],
  },
  spec: { replicas },
});

test('answers only for the namespace it watches, once it has listed', () => {
  const cache = new ObjectStore('ns');
  assert.equal(cache.covers('ns'), false, 'not before the first list');
  cache.replace([]);
  assert.equal(cache.covers('ns'), true);
  assert.equal(cache.covers('other'), false);
  const all = new ObjectStore(undefined);
  all.replace([]);
  assert.equal(all.covers('anything'), true);
});

test('never goes back in time: an older copy does not replace a newer one', () => {
  const cache = new ObjectStore('ns');
  cache.replace([rs('a', '10', 2)]);
  cache.upsert(rs('a', '12', 4)); // our own write's response
  cache.upsert(rs('a', '11', 3)); // the watch catching up
  assert.equal(cache.get('ns', 'a')?.spec.replicas, 4);
  cache.upsert(rs('a', '13', 5));
  assert.equal(cache.get('ns', 'a')?.spec.replicas, 5);
});

test('indexes by controller: ownedBy follows creates, moves and deletes', () => {
  const cache = new ObjectStore('ns');
  cache.replace([rs('a', '1', 1), rs('b', '2', 1), rs('c', '3', 1, 'other')]);
  assert.deepEqual(
    cache
      .ownedBy('ro-uid')
      .map((o) => o.metadata.name)
      .sort(),
    ['a', 'b'],
  );
  cache.remove(rs('b', '4', 1));
  assert.deepEqual(
    cache.ownedBy('ro-uid').map((o) => o.metadata.name),
    ['a'],
  );
  cache.forget('ns', 'a');
  assert.deepEqual(cache.ownedBy('ro-uid'), []);
  assert.equal(cache.size, 1);
});

test('a late delete event of an object recreated since does not remove the new one', () => {
  const cache = new ObjectStore('ns');
  cache.replace([]);
  cache.upsert(rs('a', '20', 1));
  cache.remove(rs('a', '15', 1));
  assert.equal(cache.get('ns', 'a')?.metadata.resourceVersion, '20');
});

test('a relist replaces everything, dropping objects deleted while the watch was down', () => {
  const cache = new ObjectStore('ns');
  cache.replace([rs('a', '1', 1), rs('b', '2', 1)]);
  cache.replace([rs('b', '5', 2)]);
  assert.equal(cache.get('ns', 'a'), undefined);
  assert.deepEqual(
    cache.ownedBy('ro-uid').map((o) => o.spec.replicas),
    [2],
  );
});

test('trims what it stores', () => {
  const cache = new ObjectStore('ns', (o) => ({ ...o, spec: { replicas: o.spec.replicas } }));
  cache.replace([{ ...rs('a', '1', 3), spec: { replicas: 3, template: { big: 'x'.repeat(1000) } } }]);
  assert.deepEqual(cache.get('ns', 'a')?.spec, { replicas: 3 });
});
