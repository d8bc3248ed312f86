// dynamicStableScale behind NGINX traffic routing, on the real stack: the stable
// ReplicaSet shrinks as traffic leaves it, and on abort it scales back up before the
// canary Ingress weight steps down; the canary follows its traffic to 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../worker/sluice';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

const manifests = (namespace: string) => [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api-stable', namespace }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api-canary', namespace }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'api', namespace },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'api.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api-stable', port: { number: 80 } } } }] } }] },
  },
  {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'api', namespace },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'app', image: 'api:1' }] } },
      strategy: {
        canary: {
          canaryService: 'api-canary',
          stableService: 'api-stable',
          dynamicStableScale: true,
          trafficRouting: { nginx: { stableIngress: 'api' } },
          steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { pause: {} }],
        },
      },
    },
  },
];

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-dynamic-stable');
  sluice = await startSluiceFor(stack, ns);
  await kubectl(stack, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests(ns) }));
  await eventually('Healthy', async () => (await get()).status?.phase === 'Healthy');
});
after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const get = () => stack.kube.get(Resources.rollout, ns, 'api');
const canaryIngress = () => stack.kube.find(Resources.ingress, ns, 'api-api-canary');
const weightOf = (ing: KubeObject | undefined) => Number(ing?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight'] ?? NaN);
const rs = (hash: string) => stack.kube.get(Resources.replicaSet, ns, `api-${hash}`);
const selector = async (svc: string) => (await stack.kube.get(Resources.service, ns, svc)).spec.selector['rollouts-pod-template-hash'];
const setImage = (image: string) => kubectl(stack, ['patch', 'rollout', 'api', '-n', ns, '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }])]);
const post = (cmd: string) => fetch(`${sluice.apiUrl}/api/v1/namespaces/${ns}/rollouts/api/${cmd}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.SLUICE_TOKEN}` }, body: '{}' });

test('the stable side follows its traffic; an abort scales it back up before traffic returns', async () => {
  const v1 = (await get()).status.stableRS;
  await setImage('api:2');
  await eventually('paused at step 1 with weight 25', async () => {
    const ro = await get();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 && weightOf(await canaryIngress()) === 25;
  });
  const v2 = (await get()).status.currentPodHash;
  await eventually('stable at 3 of 4 once 25% left it', async () => (await rs(v1)).spec.replicas === 3);
  assert.equal((await rs(v2)).spec.replicas, 1);

  assert.equal((await post('promote')).status, 200);
  await eventually('paused at step 3 with weight 75', async () => {
    const ro = await get();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 3 && weightOf(await canaryIngress()) === 75;
  });
  await eventually('stable at 1, canary at 3', async () => (await rs(v1)).spec.replicas === 1 && (await rs(v2)).spec.replicas === 3);

  assert.equal((await post('abort')).status, 200);
  // Sample while the abort unwinds: neither side ever has fewer pods than its traffic
  // needs. Read in an order that cannot invent a violation: the canary only shrinks and
  // the stable side only grows during an abort, so each is read on the safe side of the weight.
  const seen: string[] = [];
  const violations: string[] = [];
  await eventually(
    'aborted: weight 0, canary 0, stable 4',
    async () => {
      const canary = (await rs(v2)).spec.replicas;
      const w = weightOf(await canaryIngress());
      const stable = (await rs(v1)).spec.replicas;
      seen.push(`w${w}/s${stable}/c${canary}`);
      if (stable < Math.ceil((4 * (100 - w)) / 100)) violations.push(`stable ${stable} at canary weight ${w}`);
      if (canary < Math.ceil((4 * w) / 100)) violations.push(`canary ${canary} at canary weight ${w}`);
      return w === 0 && canary === 0 && stable === 4;
    },
    30_000,
    50,
  );
  assert.deepEqual(violations, [], `samples: ${seen.join(' ')}`);
  assert.equal(await selector('api-canary'), v1, 'the canary Service selects stable once its traffic is 0');
  assert.equal((await get()).status.phase, 'Degraded');
});
