// The copies the application activities read: only what the watch covers, only tracked
// objects, trimmed of what a pass does not read, and never older than what they hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedApplication, cachedManaged, createApplicationCache, keepTracked, kindKey } from '../../activities/application-cache';
import { Resources, typedItems, type KubeObject } from '../../k8s/kube-client';
import { TRACKING_ID_ANNOTATION } from '../../domain/argo/names';

const trackedCm = (name: string, rv: string, tracked = true): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name,
    namespace: 'shop',
    resourceVersion: rv,
    annotations: tracked ? { [TRACKING_ID_ANNOTATION]: `shop_app:/ConfigMap:shop/${name}` } : {},
    managedFields: [{ manager: 'sluice' }],
  } as KubeObject['metadata'],
  data: { a: rv },
});

test('an Application is read from the copy only once the watch has listed its namespace, without its status', () => {
  const cache = createApplicationCache('shop');
  const app: KubeObject = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'app', namespace: 'shop', resourceVersion: '5' },
    spec: { project: 'default' },
    status: { sync: { status: 'Synced' } },
  } as KubeObject;
  cache.applications.upsert(app);
  assert.equal(cachedApplication(cache, 'shop', 'app'), undefined, 'not listed yet: the API server is asked');
  cache.applications.replace([app]);
  const copy = cachedApplication(cache, 'shop', 'app') as KubeObject & { status?: unknown };
  assert.deepEqual(copy.spec, { project: 'default' });
  assert.equal(copy.status, undefined);
  assert.equal(cachedApplication(cache, 'other', 'app'), undefined, 'a namespace the watch does not cover');
  assert.equal(cachedApplication(undefined, 'shop', 'app'), undefined);
  // Only the condition the image workflow owns is kept, so a status write can carry it over.
  const image = { type: 'ImageUpdateError', message: 'image a: bad' };
  cache.applications.upsert({
    ...app,
    metadata: { ...app.metadata, resourceVersion: '6' },
    status: { sync: {}, conditions: [{ type: 'ComparisonError' }, image] },
  } as KubeObject);
  assert.deepEqual((cachedApplication(cache, 'shop', 'app') as KubeObject & { status?: unknown }).status, { conditions: [image] });
  // An operation shown Running is kept (a pass resumes one its workflow does not know of), without its results; a finished one is not.
  const operation = { sync: { revision: 'abc' }, initiatedBy: { automated: true } };
  const showing = (phase: string, resourceVersion: string) => {
    cache.applications.upsert({
      ...app,
      metadata: { ...app.metadata, resourceVersion },
      status: { sync: {}, operationState: { operation, phase, message: 'syncing', startedAt: 't0', syncResult: { resources: [] } } },
    } as KubeObject);
    return (cachedApplication(cache, 'shop', 'app') as KubeObject & { status?: unknown }).status;
  };
  assert.deepEqual(showing('Running', '7'), { operationState: { operation, phase: 'Running', message: 'syncing', startedAt: 't0', syncResult: undefined } });
  assert.equal(showing('Succeeded', '8'), undefined);
});

test('only tracked objects of the watched kinds are kept, without managed fields, and an older event does not replace a newer copy', () => {
  const cache = createApplicationCache(undefined);
  const copies = cache.managed.get(kindKey(Resources.configMap))!;
  copies.replace([]);
  keepTracked(copies, 'ADDED', trackedCm('untracked', '3', false));
  assert.equal(cachedManaged(cache, Resources.configMap, 'shop', 'untracked'), undefined);

  keepTracked(copies, 'ADDED', trackedCm('cm', '10'));
  const copy = cachedManaged(cache, Resources.configMap, 'shop', 'cm')!;
  assert.equal(copy.metadata.resourceVersion, '10');
  assert.equal((copy.metadata as { managedFields?: unknown }).managedFields, undefined);

  keepTracked(copies, 'MODIFIED', trackedCm('cm', '9'));
  assert.equal(cachedManaged(cache, Resources.configMap, 'shop', 'cm')!.metadata.resourceVersion, '10');

  keepTracked(copies, 'MODIFIED', trackedCm('cm', '11', false));
  assert.equal(cachedManaged(cache, Resources.configMap, 'shop', 'cm'), undefined, 'the annotation was removed');

  keepTracked(copies, 'ADDED', trackedCm('gone', '12'));
  keepTracked(copies, 'DELETED', trackedCm('gone', '13'));
  assert.equal(cachedManaged(cache, Resources.configMap, 'shop', 'gone'), undefined);
});

test("listed items, which carry no apiVersion or kind, get the list's", () => {
  const listed = trackedCm('cm', '7');
  delete (listed as Partial<KubeObject>).apiVersion;
  delete (listed as Partial<KubeObject>).kind;
  const [item] = typedItems({ apiVersion: 'v1', kind: 'ConfigMapList', items: [listed] });
  assert.equal(item!.apiVersion, 'v1');
  assert.equal(item!.kind, 'ConfigMap');
  const [kept] = typedItems({
    apiVersion: 'apps/v1',
    kind: 'DeploymentList',
    items: [{ apiVersion: 'apps/v1beta2', kind: 'Deployment', metadata: { name: 'web' } } as KubeObject],
  });
  assert.equal(kept!.apiVersion, 'apps/v1beta2', 'an item that says its own keeps it');
});

test('kinds outside the watched ones, and cluster-scoped reads, always go to the API server', () => {
  const cache = createApplicationCache(undefined);
  for (const store of cache.managed.values()) store.replace([]);
  const serviceAccount = { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true };
  assert.equal(cache.managed.has(kindKey(serviceAccount)), false);
  assert.equal(cachedManaged(cache, serviceAccount, 'shop', 'x'), undefined);
  assert.equal(cachedManaged(cache, Resources.namespace, undefined, 'shop'), undefined);
});
