// Blue-green with a reduced preview and automatic promotion on the real stack. This
// spec once looped: the preview ReplicaSet was scaled between 1 and 4 many times a
// second and the rollout never promoted. Argo's behaviour: the preview runs 1 pod,
// after autoPromotionSeconds it grows to 4, once they are available the active Service
// switches, and the old ReplicaSet goes to 0 after scaleDownDelaySeconds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

const NAME = 'bg-preview';
const manifest = (image: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ${NAME}
spec:
  replicas: 4
  selector:
    matchLabels:
      app: ${NAME}
  template:
    metadata:
      labels:
        app: ${NAME}
    spec:
      containers:
        - name: app
          image: ${image}
  strategy:
    blueGreen:
      activeService: ${NAME}-active
      previewService: ${NAME}-preview
      previewReplicaCount: 1
      autoPromotionEnabled: true
      autoPromotionSeconds: 4
      scaleDownDelaySeconds: 3
---
apiVersion: v1
kind: Service
metadata:
  name: ${NAME}-active
spec:
  ports: [{ port: 80, targetPort: 8080 }]
  selector:
    app: ${NAME}
---
apiVersion: v1
kind: Service
metadata:
  name: ${NAME}-preview
spec:
  ports: [{ port: 80, targetPort: 8080 }]
  selector:
    app: ${NAME}
`;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-bg-preview');
  sluice = await startSluiceFor(stack, ns);
});
after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const rollout = () => stack.kube.get(Resources.rollout, ns, NAME);
const selectorHash = async (svc: string) =>
  (await stack.kube.get(Resources.service, ns, svc)).spec.selector['rollouts-pod-template-hash'] as string | undefined;
const replicaSet = (hash: string): Promise<KubeObject> => stack.kube.get(Resources.replicaSet, ns, `${NAME}-${hash}`);

test('previewReplicaCount 1 with autoPromotionSeconds 4: preview at 1, grows to 4, switches, old to 0 after 3 s', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', '-'], manifest('argoproj/rollouts-demo:blue'));
  const first = await eventually('blue is Healthy behind both Services', async () => {
    const ro = await rollout();
    if (ro.status?.phase !== 'Healthy') return undefined;
    const [a, p] = await Promise.all([selectorHash(`${NAME}-active`), selectorHash(`${NAME}-preview`)]);
    return a === ro.status.stableRS && p === ro.status.stableRS ? ro : undefined;
  });
  const blue = first.status.stableRS as string;

  await kubectl(stack, [
    'patch',
    'rollout',
    NAME,
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"argoproj/rollouts-demo:yellow"}]',
  ]);
  const paused = await eventually('paused with one preview pod of yellow', async () => {
    const ro = await rollout();
    if (ro.status?.phase !== 'Paused' || ro.status.currentPodHash === blue) return undefined;
    return (await selectorHash(`${NAME}-preview`)) === ro.status.currentPodHash ? ro : undefined;
  });
  const yellow = paused.status.currentPodHash as string;
  const pausedAt = Date.now();
  assert.equal(paused.status.pauseConditions[0].reason, 'BlueGreenPause');
  assert.equal((await replicaSet(yellow)).spec.replicas, 1);
  assert.equal(await selectorHash(`${NAME}-active`), blue, 'active stays on blue during the pause');

  // Watch the preview's size on the way: it may only grow, 1 then 4.
  const sizes: number[] = [];
  let watching = true;
  const sampler = (async () => {
    while (watching) {
      const n = (await replicaSet(yellow)).spec.replicas as number;
      if (sizes[sizes.length - 1] !== n) sizes.push(n);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const switched = await eventually(
    'active switches to yellow',
    async () => ((await selectorHash(`${NAME}-active`)) === yellow ? Date.now() : undefined),
    60_000,
    50,
  );
  assert.ok(switched - pausedAt >= 3_000, `switched ${switched - pausedAt} ms after the pause began, before autoPromotionSeconds (4 s)`);
  const healthy = await eventually('Healthy on yellow', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Healthy' && ro.status.stableRS === yellow ? ro : undefined;
  });
  assert.equal(healthy.status.blueGreen.activeSelector, yellow);
  assert.equal(healthy.status.blueGreen.scaleUpPreviewCheckPoint, false);

  await eventually('blue scales to 0', async () => (await replicaSet(blue)).spec.replicas === 0, 60_000, 100);
  const scaledDown = Date.now();
  assert.ok(scaledDown - switched >= 2_500, `blue scaled down ${scaledDown - switched} ms after the switch, before scaleDownDelaySeconds (3 s)`);
  watching = false;
  await sampler;
  assert.deepEqual(sizes, [1, 4], 'the preview grew once and never shrank');

  // Settled: nothing keeps writing the ReplicaSets (each spec change bumps the generation).
  const generations = async () => [Number((await replicaSet(yellow)).metadata.generation), Number((await replicaSet(blue)).metadata.generation)];
  const before = await generations();
  assert.ok(before[0] <= 3, `yellow's generation is ${before[0]}: it was written more than its steps explain`);
  await new Promise((r) => setTimeout(r, 3_000));
  assert.deepEqual(await generations(), before, 'no ReplicaSet is written once the rollout is Healthy');
  assert.equal((await rollout()).status.phase, 'Healthy');
});
