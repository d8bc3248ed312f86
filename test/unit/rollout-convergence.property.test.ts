// Convergence properties of the rollout decision: for generated specs over both
// strategies' options, with late pods, analysis verdicts, commands at random points and
// a new revision mid-way, a rollout settles (Healthy, or aborted back on stable) within a
// bounded number of passes, writes no field back and forth, and never takes availability
// below what the spec allows. SLUICE_PROPERTY_SEED and SLUICE_PROPERTY_RUNS reproduce a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BlueGreenStrategy, CanaryStep, CanaryStrategy, RolloutSpec } from '../../domain/rollouts/types';
import { simulate, type Command, type Scenario } from '../support/rollout-simulation';
import { propertyOptions } from '../support/property-options';

const analysis = { templates: [{ templateName: 'check' }] };
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const intOrPercent = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('0%', '25%', '50%', '100%'));

const stepArb = (routed: boolean): fc.Arbitrary<CanaryStep> =>
  fc.oneof(
    fc.record({ setWeight: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ pause: fc.oneof(fc.constant({}), fc.record({ duration: fc.constantFrom<string | number>('5s', '1m', 10, 0) })) }),
    fc.constant({ analysis }),
    ...(routed
      ? [
          fc.record({
            setCanaryScale: fc.oneof(
              fc.record({ weight: fc.integer({ min: 0, max: 100 }) }),
              fc.record({ replicas: fc.integer({ min: 0, max: 6 }) }),
              fc.constant({ matchTrafficWeight: true }),
            ),
          }),
        ]
      : []),
  );

const canaryArb: fc.Arbitrary<CanaryStrategy> = fc.boolean().chain((routed) =>
  fc
    .record({
      steps: fc.array(stepArb(routed), { maxLength: 6 }),
      maxSurge: optional(intOrPercent),
      maxUnavailable: optional(intOrPercent),
      minPodsPerReplicaSet: routed ? optional(fc.integer({ min: 0, max: 3 })) : fc.constant(undefined),
      dynamicStableScale: routed ? fc.boolean() : fc.constant(false),
      scaleDownDelaySeconds: optional(fc.integer({ min: 0, max: 5 })),
      abortScaleDownDelaySeconds: optional(fc.integer({ min: 0, max: 5 })),
      background: fc.boolean(),
      services: fc.boolean(),
    })
    .map(({ background, services, dynamicStableScale, ...c }) => {
      const strategy: CanaryStrategy = { ...c, ...(background ? { analysis } : {}) };
      if (routed || services) Object.assign(strategy, { canaryService: 'canary', stableService: 'stable' });
      if (routed) strategy.trafficRouting = { nginx: { stableIngress: 'ingress' } };
      // Argo refuses dynamicStableScale with scaleDownDelaySeconds: generate valid specs.
      if (dynamicStableScale) {
        strategy.dynamicStableScale = true;
        delete strategy.scaleDownDelaySeconds;
      }
      return JSON.parse(JSON.stringify(strategy)) as CanaryStrategy;
    }),
);

const blueGreenArb: fc.Arbitrary<BlueGreenStrategy> = fc
  .record({
    previewReplicaCount: optional(fc.integer({ min: 0, max: 6 })),
    autoPromotionEnabled: optional(fc.boolean()),
    autoPromotionSeconds: optional(fc.integer({ min: 0, max: 10 })),
    scaleDownDelaySeconds: optional(fc.integer({ min: 0, max: 10 })),
    scaleDownDelayRevisionLimit: optional(fc.integer({ min: 0, max: 2 })),
    abortScaleDownDelaySeconds: optional(fc.integer({ min: 0, max: 5 })),
    preview: fc.boolean(),
    pre: fc.boolean(),
    post: fc.boolean(),
  })
  .map(({ preview, pre, post, ...bg }) => {
    const strategy: BlueGreenStrategy = { activeService: 'active', ...bg };
    if (preview) strategy.previewService = 'preview';
    if (pre) strategy.prePromotionAnalysis = analysis;
    if (post) strategy.postPromotionAnalysis = analysis;
    return JSON.parse(JSON.stringify(strategy)) as BlueGreenStrategy;
  });

function specOf(replicas: number, strategy: RolloutSpec['strategy']): RolloutSpec {
  return {
    replicas,
    selector: { matchLabels: { app: 'demo' } },
    template: { metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'app', image: 'demo:v0' }] } },
    strategy,
  };
}

const commandArb = fc.constantFrom<Command>('promote', 'promoteFull', 'abort', 'retry', 'pause', 'resume', 'newRevision');
const scenarioArb = (strategy: fc.Arbitrary<RolloutSpec['strategy']>): fc.Arbitrary<Scenario> =>
  fc.record({
    spec: fc.tuple(fc.integer({ min: 1, max: 6 }), strategy).map(([replicas, s]) => specOf(replicas, s)),
    readyRate: fc.integer({ min: 0, max: 3 }),
    analysisOutcomes: fc.array(
      fc.constantFrom('Successful', 'Successful', 'Failed', 'Inconclusive', 'Running', 'Error') as fc.Arbitrary<Scenario['analysisOutcomes'][number]>,
      { maxLength: 6 },
    ),
    events: fc.array(fc.record({ at: fc.integer({ min: 0, max: 80 }), command: commandArb }), { maxLength: 4 }),
  });

const settles = (s: Scenario) => {
  const r = simulate(s);
  if (r.problems.length > 0) throw new Error(`${r.problems.join('\n')}\nafter ${r.passes} passes; events: ${r.log.join('; ')}`);
};

test('canary: every generated rollout settles, without flapping or dropping availability', () => {
  fc.assert(fc.property(scenarioArb(canaryArb.map((canary) => ({ canary }))), settles), propertyOptions());
  assert.ok(true);
});

test('blue-green: every generated rollout settles, without flapping or dropping the active side', () => {
  fc.assert(fc.property(scenarioArb(blueGreenArb.map((blueGreen) => ({ blueGreen }))), settles), propertyOptions());
});
