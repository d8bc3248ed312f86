// setCanaryScale behind NGINX traffic routing, on the real stack: the canary
// ReplicaSet is sized apart from the traffic weight on the canary Ingress until a
// matchTrafficWeight step, minPodsPerReplicaSet raising the canary's size there, then
// completion. The objects are the proof; no ingress controller runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../support/stack';
import { nginxCanaryRig } from '../support/nginx-canary';

const rig = nginxCanaryRig('shop', 'e2e-canary-scale', 4, {
  scaleDownDelaySeconds: 2,
  minPodsPerReplicaSet: 2,
  steps: [{ setCanaryScale: { replicas: 3 } }, { setWeight: 25 }, { pause: {} }, { setCanaryScale: { matchTrafficWeight: true } }, { pause: {} }],
});
const { get, canaryIngress, weightOf, rs, setImage } = rig;
const promote = () => rig.post('promote');

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
