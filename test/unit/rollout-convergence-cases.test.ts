// Cases the convergence properties found (shrunk by fast-check), kept as ordinary tests:
// each one settled wrong, flapped, or took availability away before its fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlueGreenStrategy, CanaryStrategy, RolloutSpec } from '../../domain/rollouts/types';
import { simulate, type Scenario } from '../support/rollout-simulation';
import type { EarlierRules } from '../../domain/rollouts/actions';

const analysis = { templates: [{ templateName: 'check' }] };
const nginx = { canaryService: 'canary', stableService: 'stable', trafficRouting: { nginx: { stableIngress: 'ingress' } } };

function spec(replicas: number, strategy: { canary?: CanaryStrategy; blueGreen?: BlueGreenStrategy }): RolloutSpec {
  return {
    replicas,
    selector: { matchLabels: { app: 'demo' } },
    template: { metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'app', image: 'demo:v0' }] } },
    strategy,
  };
}

function settles(s: Partial<Scenario> & { spec: RolloutSpec }, earlier?: EarlierRules) {
  const r = simulate({ readyRate: 0, analysisOutcomes: [], events: [], ...s }, false, earlier);
  assert.deepEqual(r.problems, [], r.log.join('\n'));
  return r;
}

test('canary without steps: the stable Service follows the promotion in the same pass', () => {
  settles({ spec: spec(1, { canary: { steps: [], maxSurge: '0%', canaryService: 'canary', stableService: 'stable' } }) });
});

test('blue-green: a pre-promotion analysis failing starts the rollback in the same pass', () => {
  settles({ spec: spec(1, { blueGreen: { activeService: 'active', prePromotionAnalysis: analysis } }), analysisOutcomes: ['Error'] });
});

test('blue-green: while the post-promotion analysis runs, the switched ReplicaSet keeps its full size', () => {
  const blueGreen = { activeService: 'active', previewReplicaCount: 0, prePromotionAnalysis: analysis, postPromotionAnalysis: analysis };
  settles({ spec: spec(1, { blueGreen }), analysisOutcomes: ['Inconclusive', 'Running'] });
});

test('blue-green: a newer revision does not scale away the ReplicaSet the active Service selects', () => {
  const blueGreen = { activeService: 'active', scaleDownDelayRevisionLimit: 0, postPromotionAnalysis: analysis };
  settles({ spec: spec(1, { blueGreen }), events: [{ at: 3, command: 'newRevision' }] });
});

test('canary: abort after promote --full cancels the full promotion instead of sizing the canary by turns', () => {
  settles({
    spec: spec(1, { canary: { steps: [], ...nginx } }),
    events: [
      { at: 2, command: 'promoteFull' },
      { at: 3, command: 'abort' },
    ],
  });
});

test('canary: a superseded canary holding every pod goes down only as availability allows', () => {
  settles({ spec: spec(2, { canary: { steps: [{ analysis }], maxSurge: '0%' } }), events: [{ at: 6, command: 'newRevision' }] });
});

test('canary behind a router: a setCanaryScale of no pods does not hold the next setWeight forever', () => {
  settles({ spec: spec(1, { canary: { steps: [{ setCanaryScale: { weight: 0 } }, { setWeight: 1 }], ...nginx } }) });
});

test('canary with dynamicStableScale: after setCanaryScale weight 0, the stable side does not go up and down', () => {
  settles({ spec: spec(4, { canary: { steps: [{ setCanaryScale: { weight: 0 } }, { setWeight: 25 }], ...nginx, dynamicStableScale: true } }), readyRate: 1 });
});

test('canary with dynamicStableScale: a lower setWeight keeps the canary up until the router has moved', () => {
  settles({ spec: spec(2, { canary: { steps: [{ setWeight: 50 }, { setWeight: 0 }], ...nginx, dynamicStableScale: true } }), readyRate: 1 });
});

test('canary with dynamicStableScale: a setCanaryScale weight under the router weight is kept as asked', () => {
  settles({ spec: spec(2, { canary: { steps: [{ setCanaryScale: { weight: 1 } }, { setWeight: 51 }], ...nginx, dynamicStableScale: true } }) });
});

test('canary with dynamicStableScale: traffic going down to a lower setWeight does not bounce back up', () => {
  settles({ spec: spec(1, { canary: { steps: [{ setWeight: 1 }, { setWeight: 0 }], ...nginx, dynamicStableScale: true } }) });
});

test('canary with dynamicStableScale and abortScaleDownDelaySeconds 0: an abort sends the traffic back to stable', () => {
  const canary = {
    steps: [{ setCanaryScale: { weight: 1 } }, { setWeight: 1 }, { analysis }],
    abortScaleDownDelaySeconds: 0,
    ...nginx,
    dynamicStableScale: true,
  };
  settles({ spec: spec(1, { canary }), analysisOutcomes: ['Failed'] });
});

test('canary with dynamicStableScale: after a setCanaryScale of no pods, the router does not go back up before the canary is ready', () => {
  settles({ spec: spec(4, { canary: { steps: [{ setWeight: 25 }, { setCanaryScale: { replicas: 0 } }], ...nginx, dynamicStableScale: true } }), readyRate: 1 });
});

test('canary with dynamicStableScale: promote --full with more canary pods than replicas sends at most 100%', () => {
  settles({
    spec: spec(1, { canary: { steps: [{ setCanaryScale: { replicas: 2 } }], ...nginx, dynamicStableScale: true } }),
    events: [
      { at: 18, command: 'newRevision' },
      { at: 19, command: 'promoteFull' },
    ],
  });
});

test('canary with dynamicStableScale and minPodsPerReplicaSet: an abort steps the traffic down to 0, not to a weight the minimum holds up', () => {
  const canary = { steps: [{ setWeight: 1 }, { analysis }], minPodsPerReplicaSet: 2, ...nginx, dynamicStableScale: true };
  settles({ spec: spec(2, { canary }), analysisOutcomes: ['Error'] });
});

test('retry after a failed analysis runs the analysis again instead of aborting on the old verdict', () => {
  const r = settles({
    spec: spec(2, { canary: { steps: [{ setWeight: 50 }, { analysis }] } }),
    analysisOutcomes: ['Failed', 'Successful'],
    events: [
      { at: 10, command: 'promote' },
      { at: 30, command: 'retry' },
    ],
  });
  assert.ok(
    r.log.some((l) => l.endsWith(': retry')),
    'retried',
  );
  assert.equal(r.decision.status.phase, 'Healthy');
});

test('blue-green: retry after a failed pre-promotion analysis runs it again', () => {
  const r = settles({
    spec: spec(2, { blueGreen: { activeService: 'active', prePromotionAnalysis: analysis } }),
    analysisOutcomes: ['Failed', 'Successful'],
    events: [
      { at: 10, command: 'promote' },
      { at: 30, command: 'retry' },
    ],
  });
  assert.ok(
    r.log.some((l) => l.endsWith(': retry')),
    'retried',
  );
  assert.equal(r.decision.status.phase, 'Healthy');
});

test('canary with dynamicStableScale and setCanaryScale weight: a setWeight going down grows the stable side first', () => {
  const canary: CanaryStrategy = {
    ...nginx,
    dynamicStableScale: true,
    steps: [{ setCanaryScale: { weight: 50 } }, { setWeight: 50 }, { pause: {} }, { setWeight: 0 }],
  };
  const r = settles({ spec: spec(2, { canary }) });
  assert.equal(r.decision.status.phase, 'Healthy');
});

test('canary with dynamicStableScale: an abort that keeps a setCanaryScale (abortScaleDownDelaySeconds 0) still takes all traffic back', () => {
  const canary: CanaryStrategy = {
    ...nginx,
    dynamicStableScale: true,
    abortScaleDownDelaySeconds: 0,
    steps: [{ setWeight: 1 }, { setCanaryScale: { replicas: 2 } }],
  };
  const r = settles({ spec: spec(1, { canary }), events: [{ at: 4, command: 'abort' }] });
  assert.equal(r.decision.progress.aborted, true);
  assert.equal(r.decision.progress.trafficWeight, 0);
});

test('canary with dynamicStableScale: an analysis error under a kept setCanaryScale weight takes all traffic back', () => {
  const canary: CanaryStrategy = {
    ...nginx,
    dynamicStableScale: true,
    abortScaleDownDelaySeconds: 0,
    analysis,
    steps: [{ setCanaryScale: { weight: 51 } }, { setWeight: 1 }, { analysis }],
  };
  const r = settles({ spec: spec(2, { canary }), analysisOutcomes: ['Successful', 'Successful', 'Error'], events: [{ at: 2, command: 'newRevision' }] });
  assert.equal(r.decision.progress.trafficWeight, 0);
});

test('canary with dynamicStableScale: a retry clears the abort scale-down deadline, so a second abort keeps the canary up for its traffic', () => {
  const canary: CanaryStrategy = {
    ...nginx,
    dynamicStableScale: true,
    abortScaleDownDelaySeconds: 1,
    steps: [{ setWeight: 50 }, { analysis }, { analysis }],
  };
  settles({
    spec: spec(2, { canary }),
    analysisOutcomes: ['Successful', 'Error'],
    events: [
      { at: 2, command: 'abort' },
      { at: 3, command: 'retry' },
    ],
  });
});

test('a run started before the canary-held-apart patch still decides the old way, so its history replays', () => {
  // The three cases above, under the earlier rules: each one's old outcome, not the fixed one.
  const stuck = simulate(
    {
      spec: spec(2, {
        canary: { ...nginx, dynamicStableScale: true, steps: [{ setCanaryScale: { weight: 50 } }, { setWeight: 50 }, { pause: {} }, { setWeight: 0 }] },
      }),
      readyRate: 0,
      analysisOutcomes: [],
      events: [],
    },
    false,
    { beforeCanaryHeldApart: true },
  );
  assert.match(stuck.problems.join('\n'), /ProgressDeadlineExceeded/);
  const held = simulate(
    {
      spec: spec(1, {
        canary: { ...nginx, dynamicStableScale: true, abortScaleDownDelaySeconds: 0, steps: [{ setWeight: 1 }, { setCanaryScale: { replicas: 2 } }] },
      }),
      readyRate: 0,
      analysisOutcomes: [],
      events: [{ at: 4, command: 'abort' }],
    },
    false,
    { beforeCanaryHeldApart: true },
  );
  assert.equal(held.decision.progress.trafficWeight, 1);
});
