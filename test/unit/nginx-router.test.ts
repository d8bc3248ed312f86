import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canaryIngressName, nginxCanaryIngress } from '../../domain/rollouts/traffic/nginx';
import { RouterError, type RoutedObject } from '../../domain/rollouts/traffic/router';
import { createRolloutActivities } from '../../activities/rollout';
import type { KubeClient } from '../../k8s/kube-client';
import { configuredRouters, trafficRouter } from '../../domain/rollouts/traffic/routers';

const stable = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    ingressClassName: 'nginx',
    rules: [
      {
        host: 'shop.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web-stable', port: { number: 80 } } } },
            { path: '/admin', pathType: 'Prefix', backend: { service: { name: 'admin', port: { number: 80 } } } },
          ],
        },
      },
      { host: 'other.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } }] } },
    ],
  },
};

test('the canary Ingress keeps only paths to the stable Service, pointed at the canary Service, weighted', () => {
  const ing = nginxCanaryIngress({
    rollout: { name: 'checkout', uid: 'u1' },
    stable,
    stableService: 'web-stable',
    canaryService: 'web-canary',
    nginx: { stableIngress: 'web', additionalIngressAnnotations: { 'canary-by-header': 'X-Canary' } },
    weight: 20,
  });
  assert.equal(ing.metadata.name, canaryIngressName('checkout', 'web'));
  assert.equal(ing.metadata.name, 'checkout-web-canary');
  assert.deepEqual(ing.metadata.annotations, {
    'nginx.ingress.kubernetes.io/canary': 'true',
    'nginx.ingress.kubernetes.io/canary-weight': '20',
    'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary',
  });
  assert.equal(ing.spec?.ingressClassName, 'nginx');
  assert.equal(ing.spec?.rules?.length, 1);
  assert.deepEqual(
    ing.spec?.rules?.[0].http?.paths.map((p) => [p.path, p.backend.service?.name]),
    [['/', 'web-canary']],
  );
});

test('annotationPrefix is honoured, and an Ingress without a path to the stable Service is refused', () => {
  const ing = nginxCanaryIngress({
    rollout: { name: 'r', uid: 'u' },
    stable,
    stableService: 'web-stable',
    canaryService: 'c',
    nginx: { stableIngress: 'web', annotationPrefix: 'custom.io' },
    weight: 5,
  });
  assert.equal(ing.metadata.annotations?.['custom.io/canary-weight'], '5');
  assert.throws(
    () => nginxCanaryIngress({ rollout: { name: 'r', uid: 'u' }, stable, stableService: 'nope', canaryService: 'c', nginx: {}, weight: 5 }),
    /no path to the stable Service "nope"/,
  );
});

test('the NGINX router behind the router interface: validated, read, applied and verified through the registry', () => {
  const router = configuredRouters({ trafficRouting: { nginx: { stableIngress: 'web' } } })[0].router;
  assert.equal(router, trafficRouter('nginx'));
  assert.equal(trafficRouter('istio'), undefined);
  assert.equal(trafficRouter('toString'), undefined, 'only registered routers, not inherited names');
  assert.deepEqual(router.validate({}, 'spec.strategy.canary.trafficRouting.nginx'), [
    { field: 'spec.strategy.canary.trafficRouting.nginx.stableIngress', message: 'stableIngress is required' },
  ]);
  const config = { stableIngress: 'web' };
  assert.deepEqual(
    router.reads(config).map((r) => r.name),
    ['web'],
  );
  const ctx = { rollout: { namespace: 'shop', name: 'checkout', uid: 'u1' }, canary: { canaryService: 'web-canary', stableService: 'web-stable' }, config };
  const desired = router.desiredObjects(ctx, 30, () => stable);
  assert.equal(desired[0].metadata.name, 'checkout-web-canary');
  assert.equal(router.verifyWeight(ctx, 30, desired), true);
  assert.equal(router.verifyWeight(ctx, 40, desired), false);
  assert.equal(router.verifyWeight(ctx, 30, []), false);
  assert.throws(
    () => router.desiredObjects(ctx, 30, () => undefined),
    (err: Error) => err instanceof RouterError && err.reason === 'NotFound' && /stable Ingress "web" not found/.test(err.message),
  );
});

test('setTrafficWeight reads the stable Ingress, applies the canary Ingress and checks its weight', async () => {
  const rollout = {
    metadata: { name: 'checkout', namespace: 'shop', uid: 'u1' },
    spec: { strategy: { canary: { canaryService: 'web-canary', stableService: 'web-stable', trafficRouting: { nginx: { stableIngress: 'web' } } } } },
  };
  const applied: { name: string; body: RoutedObject }[] = [];
  const kube = {
    find: async (res: { plural: string }, _ns: string, name: string) => (res.plural === 'rollouts' ? rollout : name === 'web' ? stable : undefined),
    patch: async (_res: unknown, _ns: string, name: string, body: RoutedObject) => {
      applied.push({ name, body });
      return body;
    },
  } as unknown as KubeClient;
  await createRolloutActivities(kube).setTrafficWeight({ namespace: 'shop', name: 'checkout' }, { weight: 40 });
  assert.deepEqual(
    applied.map((a) => [a.name, a.body.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight']]),
    [['checkout-web-canary', '40']],
  );
});
