// setCanaryScale behind NGINX traffic routing, on the real stack: the canary
// ReplicaSet is sized apart from the traffic weight on the canary Ingress until a
// matchTrafficWeight step, minPodsPerReplicaSet raising the canary's size there, then
// completion. The objects are the proof; no ingress controller runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../worker/sluice';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

const manifests = (namespace: string) => [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop-stable', namespace }, spec: { selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 8080 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop-canary', namespace }, spec: { selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 8080 }] } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'shop', namespace },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop-stable', port: { number: 80 } } } }] } }] },
  },
  {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'shop', namespace },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'shop' } },
      template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'app', image: 'shop:1' }] } },
      strategy: {
        canary: {
          canaryService: 'shop-canary',
          stableService: 'shop-stable',
          scaleDownDelaySeconds: 2,
          minPodsPerReplicaSet: 2,
          trafficRouting: { nginx: { stableIngress: 'shop' } },
          steps: [
            { setCanaryScale: { replicas: 3 } },
            { setWeight: 25 },
            { pause: {} },
            { setCanaryScale: { matchTrafficWeight: true } },
            { pause: {} },
          ],
        },
      },
    },
  },
];

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-canary-scale');
  sluice = await startSluiceFor(stack, ns);
  await kubectl(stack, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests(ns) }));
  await eventually('Healthy', async () => (await get()).status?.phase === 'Healthy');
});
after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const get = () => stack.kube.get(Resources.rollout, ns, 'shop');
const canaryIngress = () => stack.kube.find(Resources.ingress, ns, 'shop-shop-canary');
const weightOf = (ing: KubeObject | undefined) => ing?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight'];
const rs = (hash: string) => stack.kube.get(Resources.replicaSet, ns, `shop-${hash}`);
const setImage = (image: string) => kubectl(stack, ['patch', 'rollout', 'shop', '-n', ns, '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }])]);
const promote = () => fetch(`${sluice.apiUrl}/api/v1/namespaces/${ns}/rollouts/shop/promote`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.SLUICE_TOKEN}` }, body: '{}' });

test('setCanaryScale sizes the canary apart from the Ingress weight, matchTrafficWeight brings them together, then completion', async () => {
  const v1 = (await get()).status.stableRS;
  await setImage('shop:2');

  // Step 0 (setCanaryScale replicas 3) and step 1 (setWeight 25): 3 canary pods behind 25% of the traffic.
  const first = await eventually('paused at step 2 with weight 25', async () => {
    const ro = await get();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 2 && weightOf(await canaryIngress()) === '25' ? ro : undefined;
  });
  const v2 = first.status.currentPodHash;
  assert.equal((await rs(v2)).spec.replicas, 3, 'setCanaryScale replicas: 3 holds through setWeight 25');
  assert.equal((await rs(v2)).status.availableReplicas, 3);
  assert.equal((await rs(v1)).spec.replicas, 4, 'the stable side stays at full size behind a router');
  assert.deepEqual(first.status.canary.weights.canary, { weight: 25, podTemplateHash: v2 }, 'status weights are the router weights');

  // Step 3 (matchTrafficWeight): 25% of 4 is 1 pod, raised to minPodsPerReplicaSet 2; the weight stays 25.
  assert.equal((await promote()).status, 200);
  const second = await eventually('paused at step 4', async () => {
    const ro = await get();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 4 ? ro : undefined;
  });
  assert.equal((await rs(v2)).spec.replicas, 2, 'matchTrafficWeight sizes the canary from the weight, at least minPodsPerReplicaSet');
  assert.equal(weightOf(await canaryIngress()), '25');
  assert.equal(second.status.canary.weights.canary.weight, 25);

  assert.equal((await promote()).status, 200);
  await eventually('completed on the new revision', async () => {
    const ro = await get();
    return ro.status?.phase === 'Healthy' && ro.status.stableRS === v2 ? ro : undefined;
  });
  assert.equal((await rs(v2)).spec.replicas, 4);
  await eventually('traffic weight back to 0', async () => weightOf(await canaryIngress()) === '0');
  await eventually('old ReplicaSet scaled down after the delay', async () => (await rs(v1)).spec.replicas === 0, 30_000, 200);
});
