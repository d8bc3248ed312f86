// A canary behind NGINX Ingress traffic routing: the canary Ingress copied from the
// stable one and weighted at each step, Services selecting each side by pod template
// hash, weight 0 after promotion and on abort, and the delayed scale-downs. The
// objects are the proof; no ingress controller runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import { eventually } from '../support/stack';
import { nginxCanaryRig } from '../support/nginx-canary';

const rig = nginxCanaryRig('web', 'e2e-nginx', 4, {
  scaleDownDelaySeconds: 3,
  canaryMetadata: { labels: { role: 'canary' } },
  stableMetadata: { labels: { role: 'stable' } },
  abortScaleDownDelaySeconds: 3,
  trafficRouting: { nginx: { additionalIngressAnnotations: { 'canary-by-header': 'X-Canary' } } },
  steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: 1 } }],
});
const { get, canaryIngress, weightOf, rs, selector, setImage, post } = rig;

test('weights follow the steps on the canary Ingress, and return to 0 after promotion', async () => {
  const v1 = (await get()).status.stableRS;
  const ing0 = await eventually('the canary Ingress exists at weight 0', async () => {
    const ing = await canaryIngress();
    return weightOf(ing) === '0' ? ing : undefined;
  });
  assert.equal(ing0!.metadata.annotations!['nginx.ingress.kubernetes.io/canary'], 'true');
  assert.equal(ing0!.metadata.annotations!['nginx.ingress.kubernetes.io/canary-by-header'], 'X-Canary');
  assert.equal(ing0!.spec.rules[0].http.paths[0].backend.service.name, 'web-canary');

  await setImage('web:2');
  const paused = await eventually('paused at step 1 with weight 25', async () => {
    const ro = await get();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 && weightOf(await canaryIngress()) === '25' ? ro : undefined;
  });
  const v2 = paused.status.currentPodHash;
  assert.equal(await selector('web-canary'), v2);
  assert.equal(await selector('web-stable'), v1);
  assert.equal((await rs(v1)).spec.replicas, 4, 'the stable side stays at full size behind a router');
  assert.equal((await rs(v2)).spec.replicas, 1);
  // canaryMetadata / stableMetadata: each side's pods carry their role.
  await eventually('pods labelled by role', async () => {
    const pods = (await rig.stack.kube.list(Resources.pod, rig.ns, { labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);
    const roleOf = (hash: string) => pods.filter((p) => p.metadata.labels!['rollouts-pod-template-hash'] === hash).map((p) => p.metadata.labels!.role);
    return roleOf(v2).length === 1 && roleOf(v2).every((r) => r === 'canary') && roleOf(v1).length === 4 && roleOf(v1).every((r) => r === 'stable');
  });

  assert.equal((await post('promote')).status, 200);
  await eventually('completed', async () => {
    const ro = await get();
    return ro.status?.phase === 'Healthy' && ro.status.stableRS === v2;
  });
  assert.equal(await selector('web-stable'), v2);
  await eventually('the promoted pods are now labelled stable', async () => {
    const pods = (await rig.stack.kube.list(Resources.pod, rig.ns, { labelSelector: `rollouts-pod-template-hash=${v2}` })).items;
    return pods.length === 4 && pods.every((p) => p.metadata.labels!.role === 'stable');
  });
  await eventually('traffic weight back to 0', async () => weightOf(await canaryIngress()) === '0');
  // The old ReplicaSet leaves after scaleDownDelaySeconds, not at once.
  assert.equal((await rs(v1)).spec.replicas, 4);
  await eventually('old ReplicaSet scaled down after the delay', async () => (await rs(v1)).spec.replicas === 0, 30_000, 200);
});

test('abort: weight 0 at once, the canary pods go after abortScaleDownDelaySeconds', async () => {
  await setImage('web:3');
  const paused = await eventually('paused with weight 25', async () => {
    const ro = await get();
    return ro.status?.phase === 'Paused' && weightOf(await canaryIngress()) === '25' ? ro : undefined;
  });
  assert.equal((await post('abort')).status, 200);
  await eventually('weight 0 after abort', async () => weightOf(await canaryIngress()) === '0', 10_000, 50);
  assert.equal((await rs(paused.status.currentPodHash)).spec.replicas, 1, 'canary pods kept through the abort delay');
  assert.equal(await selector('web-canary'), paused.status.stableRS, 'the canary Service selects stable after an abort');
  await eventually('canary scaled to 0 after the abort delay', async () => (await rs(paused.status.currentPodHash)).spec.replicas === 0, 30_000, 200);
  assert.equal((await get()).status.phase, 'Degraded');
});
