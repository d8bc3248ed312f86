import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appFromInstance, instanceName, isTrackedBy, parseTrackingId, prepareManifest, trackingId } from '../../domain/applications/tracking';
import { TRACKING_ID_ANNOTATION } from '../../domain/argo/names';

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } };

test('instance names follow Argo CD: bare in the control-plane namespace, ns_name elsewhere', () => {
  assert.equal(instanceName({ namespace: 'argocd', name: 'shop' }), 'shop');
  assert.equal(instanceName({ namespace: 'team-a', name: 'shop' }), 'team-a_shop');
  assert.deepEqual(appFromInstance('team-a_shop'), { namespace: 'team-a', name: 'shop' });
  assert.deepEqual(appFromInstance('shop'), { namespace: 'argocd', name: 'shop' });
});

test('prepareManifest defaults the namespace and writes the tracking id', () => {
  const m = prepareManifest(deployment, 'team-a_shop', 'prod', true);
  assert.equal(m.metadata.namespace, 'prod');
  assert.equal(m.metadata.annotations?.[TRACKING_ID_ANNOTATION], 'team-a_shop:apps/Deployment:prod/web');
  assert.equal(Object.hasOwn(deployment.metadata, 'namespace'), false, 'the input is not modified');
  const ns = prepareManifest({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod', namespace: 'x' } }, 'shop', 'prod', false);
  assert.equal(ns.metadata.namespace, undefined);
  assert.equal(ns.metadata.annotations?.[TRACKING_ID_ANNOTATION], 'shop:/Namespace:/prod');
});

test('a live object is tracked only when its tracking id names the app and the object itself', () => {
  const live = prepareManifest(deployment, 'shop', 'prod', true);
  assert.ok(isTrackedBy('shop', live));
  assert.ok(!isTrackedBy('other', live));
  const copied = { ...live, metadata: { ...live.metadata, name: 'web-copy' } };
  assert.ok(!isTrackedBy('shop', copied));
  assert.deepEqual(parseTrackingId(trackingId('shop', live)), { instance: 'shop', group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'web' });
  assert.equal(parseTrackingId('garbage'), undefined);
});
