// Traffic-routed canary arithmetic and steps against Argo Rollouts' rules
// (utils/replicaset/canary.go: CalculateReplicaCountsForTrafficRoutedCanary,
// CheckMinPodsPerReplicaSet, GetCanaryReplicasOrWeight, UseSetCanaryScale,
// GetDesiredCanaryWeight; rollout/trafficrouting.go for the router's abort weight).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  abortRouterWeight,
  abortStepDownWeight,
  atLeastMinPods,
  atTrafficRoutedCounts,
  trafficRoutedCanaryCounts,
  type TrafficRoutedScaleInput,
} from '../../domain/rollouts/canary-replicas';
import { canaryScaleAt } from '../../domain/rollouts/canary-scale';
import { decideRollout } from '../../domain/rollouts/decide';
import type { Decision } from '../../domain/rollouts/actions';
import { progressFromStatus, type RolloutProgress } from '../../domain/rollouts/progress';
import type { CanaryStep, RolloutSpec } from '../../domain/rollouts/types';
import { canarySpec, converge as convergeCluster, FakeCluster } from '../support/fake-cluster';

const routed = (p: Partial<TrafficRoutedScaleInput> & Pick<TrafficRoutedScaleInput, 'replicas' | 'weight'>): TrafficRoutedScaleInput => ({
  dynamicStableScale: false,
  aborted: false,
  ...p,
});

test('the stable side stays at full size; the canary rounds up from the weight', () => {
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 10, weight: 5 })), { canary: 1, stable: 10 });
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 30 })), { canary: 2, stable: 4 });
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 0 })), { canary: 0, stable: 4 });
});

test('setCanaryScale replicas is taken as given, even above spec.replicas or below minPods', () => {
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 0, fixedCanaryReplicas: 6 })), { canary: 6, stable: 4 });
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 0, fixedCanaryReplicas: 1, minPodsPerReplicaSet: 3 })), { canary: 1, stable: 4 });
});

test('minPodsPerReplicaSet raises a running side to the minimum, never a side at 0, capped at replicas', () => {
  assert.equal(atLeastMinPods(1, 2, 10), 2);
  assert.equal(atLeastMinPods(0, 2, 10), 0);
  assert.equal(atLeastMinPods(3, 2, 10), 3);
  assert.equal(atLeastMinPods(1, 20, 4), 4);
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 10, weight: 5, minPodsPerReplicaSet: 2 })), { canary: 2, stable: 10 });
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 10, weight: 0, minPodsPerReplicaSet: 2 })), { canary: 0, stable: 10 });
  // With dynamicStableScale the stable side gets the minimum too.
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 10, weight: 95, minPodsPerReplicaSet: 2, dynamicStableScale: true, routerCanaryWeight: 95 })), {
    canary: 10,
    stable: 2,
  });
});

test('dynamicStableScale: stable follows the larger of desired and routed stable traffic', () => {
  // Going up to 75 while the router still sends 75% to stable: stable keeps 3 of 4.
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 75, dynamicStableScale: true, routerCanaryWeight: 25 })), { canary: 3, stable: 3 });
  // Once the router is at 75 the stable side shrinks to its share.
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 75, dynamicStableScale: true, routerCanaryWeight: 75 })), { canary: 3, stable: 1 });
  // Without a known router weight only the desired weight counts.
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 75, dynamicStableScale: true })), { canary: 3, stable: 1 });
  // Aborting: the canary keeps the pods for the traffic the router still sends it.
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 0, dynamicStableScale: true, aborted: true, routerCanaryWeight: 75 })), {
    canary: 3,
    stable: 4,
  });
  // A setWeight going down holds the canary up too until the router has moved (beyond Argo,
  // which cuts it at once: 50 then 0 sent half the traffic to no pods).
  assert.deepEqual(trafficRoutedCanaryCounts(routed({ replicas: 4, weight: 25, dynamicStableScale: true, routerCanaryWeight: 75 })), { canary: 3, stable: 3 });
  // A setCanaryScale replicas count is taken as given.
  const fixed = routed({ replicas: 4, weight: 0, fixedCanaryReplicas: 1, dynamicStableScale: true, routerCanaryWeight: 75 });
  assert.deepEqual(trafficRoutedCanaryCounts(fixed), { canary: 1, stable: 4 });
});

test('at desired counts: canary at count and available; stable checked only without dynamicStableScale', () => {
  const input = routed({ replicas: 4, weight: 50 });
  assert.equal(atTrafficRoutedCounts(input, { specReplicas: 2, availableReplicas: 2 }, { specReplicas: 4, availableReplicas: 4, replicas: 4 }), true);
  assert.equal(atTrafficRoutedCounts(input, { specReplicas: 2, availableReplicas: 1 }, { specReplicas: 4, availableReplicas: 4, replicas: 4 }), false);
  assert.equal(atTrafficRoutedCounts(input, { specReplicas: 2, availableReplicas: 2 }, { specReplicas: 3, availableReplicas: 3, replicas: 3 }), false);
  const dyn = routed({ replicas: 4, weight: 50, dynamicStableScale: true, routerCanaryWeight: 0 });
  assert.equal(atTrafficRoutedCounts(dyn, { specReplicas: 2, availableReplicas: 2 }, { specReplicas: 4, availableReplicas: 4, replicas: 4 }), true);
});

test('the setCanaryScale in force: the last one at or before the step, until matchTrafficWeight', () => {
  const steps: CanaryStep[] = [
    { setCanaryScale: { replicas: 3 } },
    { setWeight: 25 },
    { pause: {} },
    { setCanaryScale: { matchTrafficWeight: true } },
    { setWeight: 50 },
  ];
  assert.deepEqual(canaryScaleAt(steps, 0), { replicas: 3 });
  assert.deepEqual(canaryScaleAt(steps, 2), { replicas: 3 }, 'a later setWeight does not cancel it');
  assert.equal(canaryScaleAt(steps, 3), undefined);
  assert.equal(canaryScaleAt(steps, 4), undefined);
  assert.equal(canaryScaleAt(steps, 5), undefined, 'past the last step the rollout goes to 100%');
});

test('abort with dynamicStableScale steps the canary weight down through the setWeights', () => {
  const setWeights = [25, 75];
  // Stable back to 1 of 4, canary carrying 3: 75% needs 3 pods (not fewer than 3), 25% needs 1.
  assert.equal(abortStepDownWeight({ replicas: 4, setWeights, stableAvailable: 1, canaryAvailable: 3, canaryHeldApart: false }), 25);
  // Stable at 3, canary at 1: nothing below 1 pod but 0.
  assert.equal(abortStepDownWeight({ replicas: 4, setWeights, stableAvailable: 3, canaryAvailable: 1, canaryHeldApart: false }), 0);
  // A canary held apart from its traffic (an abort delay, a kept setCanaryScale): only the stable side counts.
  assert.equal(abortStepDownWeight({ replicas: 4, setWeights, stableAvailable: 4, canaryAvailable: 3, canaryHeldApart: true }), 0);
  assert.equal(abortStepDownWeight({ replicas: 4, setWeights, stableAvailable: 4, canaryAvailable: 3, canaryHeldApart: false }), 25);
});

test('abort router weight moves back to stable only as stable pods become available', () => {
  // Stable has 1 of 4 available (25%), the step-down target is 25: keep 75 until stable can take 75%.
  assert.equal(abortRouterWeight({ replicas: 4, stepDownWeight: 25, stableAvailable: 1, currentCanaryWeight: 75 }), 75);
  assert.equal(abortRouterWeight({ replicas: 4, stepDownWeight: 25, stableAvailable: 3, currentCanaryWeight: 75 }), 25);
  // Target 0: as far as the stable side allows, never back up.
  assert.equal(abortRouterWeight({ replicas: 4, stepDownWeight: 0, stableAvailable: 3, currentCanaryWeight: 25 }), 25);
  assert.equal(abortRouterWeight({ replicas: 4, stepDownWeight: 0, stableAvailable: 4, currentCanaryWeight: 25 }), 0);
  assert.equal(abortRouterWeight({ replicas: 4, stepDownWeight: 0, stableAvailable: 2, currentCanaryWeight: 25 }), 25);
  // Unknown current weight: the larger of what stable cannot take and the target.
  assert.equal(abortRouterWeight({ replicas: 4, stepDownWeight: 25, stableAvailable: 4 }), 25);
});

// ---- Step progression on the fake cluster ----

function routedSpec(steps: CanaryStep[], extra: Record<string, unknown> = {}, replicas = 4): RolloutSpec {
  const spec = canarySpec(steps, replicas);
  spec.strategy!.canary = {
    ...spec.strategy!.canary,
    canaryService: 'demo-canary',
    stableService: 'demo-stable',
    trafficRouting: { nginx: { stableIngress: 'demo' } },
    ...extra,
  };
  return spec;
}

function cluster(spec: RolloutSpec): FakeCluster {
  const c = new FakeCluster(spec);
  c.addService('demo-canary');
  c.addService('demo-stable');
  return c;
}

/** Converges, recording every traffic weight and size seen. */
function converge(c: FakeCluster, progress: RolloutProgress, nowMs: number, trace?: { weight: number; canary: number; stable: number }[]): Decision {
  const size = (hash: string | undefined) => c.replicaSets.find((rs) => rs.podTemplateHash === hash)?.specReplicas ?? 0;
  return convergeCluster(c, progress, nowMs, (p) => trace?.push({ weight: p.trafficWeight ?? 0, canary: size(p.currentHash), stable: size(p.stableHash) }));
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const sizes = (c: FakeCluster, d: Decision) => ({
  canary: c.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!.specReplicas,
  stable: c.replicaSets.find((rs) => rs.podTemplateHash === d.status.stableRS)!.specReplicas,
});

test('setCanaryScale replicas: the canary is sized apart from the traffic, until matchTrafficWeight', () => {
  const steps: CanaryStep[] = [
    { setCanaryScale: { replicas: 3 } },
    { setWeight: 25 },
    { pause: {} },
    { setCanaryScale: { matchTrafficWeight: true } },
    { pause: {} },
  ];
  const c = cluster(routedSpec(steps, { minPodsPerReplicaSet: 2 }));
  let d = converge(c, progressFromStatus(undefined), T0);
  assert.equal(d.status.phase, 'Healthy');
  c.setImage('demo:yellow');

  d = converge(c, d.progress, T0 + 1000);
  assert.equal(d.status.phase, 'Paused');
  assert.equal(d.status.currentStepIndex, 2);
  assert.deepEqual(sizes(c, d), { canary: 3, stable: 4 }, 'setCanaryScale replicas 3 holds through setWeight 25');
  assert.equal(d.progress.trafficWeight, 25);
  assert.equal(d.status.canary?.weights?.canary.weight, 25, 'status weights are the router weight');
  assert.match(d.summary, /canary replicas 3/);

  // Promote: matchTrafficWeight sizes the canary from 25% of 4 (1), raised to minPodsPerReplicaSet 2.
  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 2000);
  assert.equal(d.status.currentStepIndex, 4);
  assert.deepEqual(sizes(c, d), { canary: 2, stable: 4 });
  assert.equal(d.progress.trafficWeight, 25);

  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 3000);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(d.progress.trafficWeight, 0, 'weight back to 0 once the stable Service selects the new pods');
  assert.equal(c.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!.specReplicas, 4);
});

test('a setCanaryScale step completes only once the canary is at its count and available', () => {
  const steps: CanaryStep[] = [{ setCanaryScale: { weight: 50 } }, { pause: {} }];
  const c = cluster(routedSpec(steps));
  let d = converge(c, progressFromStatus(undefined), T0);
  c.setImage('demo:yellow');
  c.podsBecomeAvailable = false;
  d = converge(c, d.progress, T0 + 1000);
  assert.equal(d.status.currentStepIndex, 0, 'waiting for the canary pods');
  assert.equal(c.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!.specReplicas, 2);
  assert.equal(d.progress.trafficWeight, 0, 'setCanaryScale moves no traffic');
  c.podsBecomeAvailable = true;
  c.settle();
  d = converge(c, d.progress, T0 + 2000);
  assert.equal(d.status.currentStepIndex, 1);
  assert.equal(d.status.phase, 'Paused');
  assert.equal(d.progress.trafficWeight, 0);
});

test('dynamicStableScale: the stable side shrinks only after traffic left it, and promotion ends at stable 0', () => {
  const steps: CanaryStep[] = [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { pause: {} }];
  const c = cluster(routedSpec(steps, { dynamicStableScale: true }));
  let d = converge(c, progressFromStatus(undefined), T0);
  c.setImage('demo:yellow');
  const trace: { weight: number; canary: number; stable: number }[] = [];
  d = converge(c, d.progress, T0 + 1000, trace);
  assert.deepEqual(sizes(c, d), { canary: 1, stable: 3 });
  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 2000, trace);
  assert.equal(d.status.currentStepIndex, 3);
  assert.deepEqual(sizes(c, d), { canary: 3, stable: 1 });
  // Never fewer stable pods than the stable traffic needs, never more traffic than canary pods.
  for (const t of trace) {
    assert.ok(t.stable >= Math.ceil((4 * (100 - t.weight)) / 100), `stable ${t.stable} too small for weight ${t.weight}`);
  }
  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 3000);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(c.replicaSets.filter((rs) => rs.specReplicas > 0).length, 1);
});

test('abort with dynamicStableScale: stable scales back up before traffic shifts, the canary follows its traffic down', () => {
  const steps: CanaryStep[] = [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { pause: {} }];
  const c = cluster(routedSpec(steps, { dynamicStableScale: true }));
  let d = converge(c, progressFromStatus(undefined), T0);
  const v1 = d.status.stableRS;
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1000);
  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 2000);
  assert.deepEqual(sizes(c, d), { canary: 3, stable: 1 });
  assert.equal(d.progress.trafficWeight, 75);

  // Stable pods come up slowly, so each stage can be seen.
  c.podsBecomeAvailable = false;
  const abort = { ...d.progress, aborted: true, abortedAt: new Date(T0 + 3000).toISOString(), pauseConditions: [] };
  d = decideRollout(c.snapshot(), abort, T0 + 3000);
  assert.equal(d.progress.trafficWeight, 75, 'no traffic moves before the stable side can take it');
  const scaleOf = (hash: string | undefined) => d.actions.find((a) => a.kind === 'scaleReplicaSet' && a.name === `demo-${hash}`);
  assert.deepEqual(scaleOf(v1), { kind: 'scaleReplicaSet', name: `demo-${v1}`, replicas: 3 }, 'stable scales up first');
  assert.equal(scaleOf(d.status.currentPodHash), undefined, 'the canary keeps its pods while it has the traffic');
  assert.equal(
    d.actions.some((a) => a.kind === 'setScaleDownDeadline'),
    false,
    'no abort delay without an explicit abortScaleDownDelaySeconds',
  );
  assert.equal(c.selectorOf('demo-canary'), d.status.currentPodHash, 'the canary Service stays on the canary while it has traffic');

  c.podsBecomeAvailable = true;
  const trace: { weight: number; canary: number; stable: number }[] = [];
  for (const a of d.actions) c.apply(a);
  c.status = d.status;
  d = converge(c, d.progress, T0 + 4000, trace);
  for (const t of trace) {
    assert.ok(t.stable >= Math.ceil((4 * (100 - t.weight)) / 100), `stable ${t.stable} too small for weight ${t.weight}`);
    assert.ok(t.canary >= Math.ceil((4 * t.weight) / 100), `canary ${t.canary} too small for weight ${t.weight}`);
  }
  assert.ok(
    trace.some((t) => t.weight === 25),
    'traffic steps down through setWeight 25',
  );
  assert.equal(d.progress.trafficWeight, 0);
  assert.deepEqual(sizes(c, d), { canary: 0, stable: 4 });
  assert.equal(c.selectorOf('demo-canary'), v1, 'the canary Service selects stable once traffic is 0');
  assert.equal(d.status.phase, 'Degraded');
});

test('abort without dynamicStableScale: traffic to 0 at once, the canary kept through abortScaleDownDelaySeconds', () => {
  const steps: CanaryStep[] = [{ setCanaryScale: { replicas: 2 } }, { setWeight: 25 }, { pause: {} }];
  const c = cluster(routedSpec(steps, { abortScaleDownDelaySeconds: 5 }));
  let d = converge(c, progressFromStatus(undefined), T0);
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1000);
  assert.deepEqual(sizes(c, d), { canary: 2, stable: 4 });
  d = converge(c, { ...d.progress, aborted: true, abortedAt: new Date(T0 + 2000).toISOString(), pauseConditions: [] }, T0 + 2000);
  assert.equal(d.progress.trafficWeight, 0);
  assert.deepEqual(sizes(c, d), { canary: 2, stable: 4 });
  d = converge(c, d.progress, T0 + 8000);
  assert.deepEqual(sizes(c, d), { canary: 0, stable: 4 });
});
