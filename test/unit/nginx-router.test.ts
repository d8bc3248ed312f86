import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canaryIngressName, nginxCanaryIngress } from '../../workflows/rollouts/traffic/nginx';

const stable = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    ingressClassName: 'nginx',
    rules: [
      { host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-stable', port: { number: 80 } } } }, { path: '/admin', pathType: 'Prefix', backend: { service: { name: 'admin', port: { number: 80 } } } }] } },
      { host: 'other.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } }] } },
    ],
  },
};

test('the canary Ingress keeps only paths to the stable Service, pointed at the canary Service, weighted', () => {
  const ing = nginxCanaryIngress({ rollout: { name: 'checkout', uid: 'u1' }, stable, stableService: 'web-stable', canaryService: 'web-canary', nginx: { stableIngress: 'web', additionalIngressAnnotations: { 'canary-by-header': 'X-Canary' } }, weight: 20 });
  assert.equal(ing.metadata.name, canaryIngressName('checkout', 'web'));
  assert.equal(ing.metadata.name, 'checkout-web-canary');
  assert.deepEqual(ing.metadata.annotations, {
    'nginx.ingress.kubernetes.io/canary': 'true',
    'nginx.ingress.kubernetes.io/canary-weight': '20',
    'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary',
  });
  assert.equal(ing.spec?.ingressClassName, 'nginx');
  assert.equal(ing.spec?.rules?.length, 1);
  assert.deepEqual(ing.spec?.rules?.[0].http?.paths.map((p) => [p.path, p.backend.service?.name]), [['/', 'web-canary']]);
});

test('annotationPrefix is honoured, and an Ingress without a path to the stable Service is refused', () => {
  const ing = nginxCanaryIngress({ rollout: { name: 'r', uid: 'u' }, stable, stableService: 'web-stable', canaryService: 'c', nginx: { stableIngress: 'web', annotationPrefix: 'custom.io' }, weight: 5 });
  assert.equal(ing.metadata.annotations?.['custom.io/canary-weight'], '5');
  assert.throws(() => nginxCanaryIngress({ rollout: { name: 'r', uid: 'u' }, stable, stableService: 'nope', canaryService: 'c', nginx: {}, weight: 5 }), /no path to the stable Service "nope"/);
});
