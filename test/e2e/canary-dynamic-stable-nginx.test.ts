// dynamicStableScale behind NGINX traffic routing, on the real stack: the stable
// ReplicaSet shrinks as traffic leaves it, and on abort it scales back up before the
// canary Ingress weight steps down; the canary follows its traffic to 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../support/stack';
import { nginxCanaryRig } from '../support/nginx-canary';

const rig = nginxCanaryRig('api', 'e2e-dynamic-stable', 4, {
  dynamicStableScale: true,
  steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { pause: {} }],
});
const { get, canaryIngress, rs, selector, setImage, post } = rig;
const weightOf = (ing: Parameters<typeof rig.weightOf>[0]) => Number(rig.weightOf(ing) ?? NaN);

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
