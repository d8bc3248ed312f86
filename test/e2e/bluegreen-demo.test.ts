// bluegreen-demo.yaml from the shared examples on the real stack: preview first,
// promotion written the Argo way onto the status, the old ReplicaSet kept up for
// scaleDownDelaySeconds and then scaled to zero.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-bg');
  sluice = await startSluiceFor(stack, ns);
});
after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const rollout = () => stack.kube.get(Resources.rollout, ns, 'bluegreen-demo');
const service = (name: string) => stack.kube.get(Resources.service, ns, name);
const selectorHash = (svc: KubeObject) => svc.spec.selector['rollouts-pod-template-hash'];
async function replicaSet(hash: string): Promise<KubeObject> {
  return stack.kube.get(Resources.replicaSet, ns, `bluegreen-demo-${hash}`);
}

test('bluegreen-demo: preview, promote via status, active switch, delayed scale-down', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'bluegreen-demo.yaml')]);
  const first = await eventually('blue is Healthy and both Services select it', async () => {
    const ro = await rollout();
    if (ro.status?.phase !== 'Healthy') return undefined;
    const [a, p] = await Promise.all([service('bluegreen-demo-active'), service('bluegreen-demo-preview')]);
    return selectorHash(a) === ro.status.stableRS && selectorHash(p) === ro.status.stableRS ? ro : undefined;
  });
  const blue = first.status.stableRS as string;
  const active = await service('bluegreen-demo-active');
  assert.equal(active.metadata.annotations?.['argo-rollouts.argoproj.io/managed-by-rollouts'], 'bluegreen-demo');
  assert.equal(active.spec.selector.app, 'bluegreen-demo', 'the original selector is kept');

  await kubectl(stack, [
    'patch',
    'rollout',
    'bluegreen-demo',
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"argoproj/rollouts-demo:yellow"}]',
  ]);
  const paused = await eventually('paused with the preview on yellow', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Paused' && selectorHash(await service('bluegreen-demo-preview')) === ro.status.currentPodHash ? ro : undefined;
  });
  const yellow = paused.status.currentPodHash as string;
  assert.equal(paused.status.pauseConditions[0].reason, 'BlueGreenPause');
  assert.equal(selectorHash(await service('bluegreen-demo-active')), blue, 'active stays on blue');
  assert.equal((await replicaSet(yellow)).spec.replicas, 3);
  assert.deepEqual(paused.status.blueGreen, { activeSelector: blue, previewSelector: yellow });

  // autoPromotionSeconds (30) is ignored because autoPromotionEnabled is false: still paused later.
  // Promote the way `kubectl argo rollouts promote` does it: clear the pause conditions.
  await kubectl(stack, [
    'patch',
    'rollout',
    'bluegreen-demo',
    '-n',
    ns,
    '--subresource=status',
    '--type',
    'merge',
    '-p',
    '{"status":{"pauseConditions":null}}',
  ]);
  const switchedAt = Date.now();
  await eventually('active switches to yellow', async () => selectorHash(await service('bluegreen-demo-active')) === yellow);
  const healthy = await eventually('Healthy on yellow', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Healthy' && ro.status.stableRS === yellow ? ro : undefined;
  });
  assert.equal(healthy.status.blueGreen.activeSelector, yellow);

  // The old ReplicaSet stays up as a rollback window, then goes to zero after 30 s.
  const old = await replicaSet(blue);
  assert.equal(old.spec.replicas, 3);
  assert.ok(old.metadata.annotations?.['argo-rollouts.argoproj.io/scale-down-deadline'], 'the deadline is recorded on the ReplicaSet');
  await eventually('blue scales to 0', async () => (await replicaSet(blue)).spec.replicas === 0, 60_000, 250);
  const waited = Date.now() - switchedAt;
  assert.ok(waited >= 25_000, `blue scaled down after ${waited} ms, before the 30 s delay`);
});
