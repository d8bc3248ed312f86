import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../k8s/kube-client';
import { analysisRunCheck, owningApp, rolloutCheck } from '../../api/rollout-access';

const rollout = (meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name: 'checkout', namespace: 'shop', ...meta } });
const frontendApp: KubeObject = { metadata: { name: 'frontend-app', namespace: 'argocd' }, spec: { project: 'team-frontend' } };
const otherNsApp: KubeObject = { metadata: { name: 'web', namespace: 'team-a' }, spec: { project: 'team-a' } };
const apps = [frontendApp, otherNsApp];
const findApp = (ref: { namespace?: string; name: string }) =>
  apps.find((a) => a.metadata.name === ref.name && (!ref.namespace || a.metadata.namespace === ref.namespace));

test('the owning Application comes from the tracking annotation, else the instance label', () => {
  assert.deepEqual(owningApp(rollout({ annotations: { 'argocd.argoproj.io/tracking-id': 'frontend-app:argoproj.io/Rollout:shop/checkout' } })), {
    name: 'frontend-app',
  });
  assert.deepEqual(owningApp(rollout({ annotations: { 'argocd.argoproj.io/tracking-id': 'team-a_web:argoproj.io/Rollout:shop/checkout' } })), {
    namespace: 'team-a',
    name: 'web',
  });
  assert.deepEqual(owningApp(rollout({ labels: { 'app.kubernetes.io/instance': 'frontend-app' } })), { name: 'frontend-app' });
  assert.equal(owningApp(rollout()), undefined);
});

test('a Rollout an Application owns is guarded as that Application, with resource actions', () => {
  const ro = rollout({ labels: { 'app.kubernetes.io/instance': 'frontend-app' } });
  assert.deepEqual(rolloutCheck(ro, undefined, findApp, 'argocd'), { resource: 'applications', action: 'get', object: 'team-frontend/frontend-app' });
  assert.deepEqual(rolloutCheck(ro, 'promote-full', findApp, 'argocd'), {
    resource: 'applications',
    action: 'action/argoproj.io/Rollout/promote-full',
    object: 'team-frontend/frontend-app',
  });
  const elsewhere = rollout({ annotations: { 'argocd.argoproj.io/tracking-id': 'team-a_web:argoproj.io/Rollout:shop/checkout' } });
  assert.equal(rolloutCheck(elsewhere, 'abort', findApp, 'argocd').object, 'team-a/team-a/web');
});

test('a Rollout nobody owns (or whose instance label names no Application) is a Sluice rollouts object', () => {
  assert.deepEqual(rolloutCheck(rollout(), 'abort', findApp, 'argocd'), { resource: 'rollouts', action: 'update', object: 'shop/checkout' });
  assert.deepEqual(rolloutCheck(rollout({ labels: { 'app.kubernetes.io/instance': 'some-helm-release' } }), undefined, findApp, 'argocd'), {
    resource: 'rollouts',
    action: 'get',
    object: 'shop/checkout',
  });
});

test('an AnalysisRun follows its Rollout', () => {
  const ro = rollout({ labels: { 'app.kubernetes.io/instance': 'frontend-app' } });
  const run: KubeObject = {
    metadata: {
      name: 'checkout-abc-2',
      namespace: 'shop',
      ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'checkout', uid: 'u' }],
    },
  };
  assert.deepEqual(
    analysisRunCheck(run, () => ro, findApp, 'argocd'),
    { resource: 'applications', action: 'get', object: 'team-frontend/frontend-app' },
  );
  assert.deepEqual(
    analysisRunCheck({ metadata: { name: 'adhoc', namespace: 'shop' } }, () => undefined, findApp, 'argocd'),
    { resource: 'analysisruns', action: 'get', object: 'shop/adhoc' },
  );
});
