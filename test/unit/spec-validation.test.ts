import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { examplesDir } from '../support/paths';
import { validateRolloutSpec } from '../../domain/rollouts/spec-validation';
import type { RolloutSpec } from '../../domain/rollouts/types';

const examples = path.join(examplesDir, 'rollouts');

function base(): RolloutSpec {
  return {
    replicas: 3,
    selector: { matchLabels: { app: 'a' } },
    template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } },
  };
}

const fields = (spec: RolloutSpec) => validateRolloutSpec(spec).map((p) => p.field);

test('a good canary spec has no problems', () => assert.deepEqual(validateRolloutSpec(base()), []));

test('canary-basic from the shared examples is valid', () => {
  const docs = parseAllDocuments(fs.readFileSync(path.join(examples, 'canary-basic.yaml'), 'utf8')).map((d) => d.toJS());
  const rollout = docs.find((d) => d.kind === 'Rollout');
  assert.deepEqual(validateRolloutSpec(rollout.spec), []);
});

test('missing selector and template are named', () => {
  const spec = base();
  delete spec.selector;
  delete spec.template;
  assert.deepEqual(fields(spec), ['spec.selector', 'spec.template']);
});

test('an unknown step kind is named with its index', () => {
  const spec = base();
  spec.strategy!.canary!.steps!.push({ teleport: {} });
  const problems = validateRolloutSpec(spec);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].field, 'spec.strategy.canary.steps[2].teleport');
  assert.match(problems[0].message, /unknown step kind "teleport"/);
});

test('weights outside 0..100 and unparsable durations are refused', () => {
  const spec = base();
  spec.strategy!.canary!.steps = [{ setWeight: -5 }, { setWeight: 150 }, { pause: { duration: '10 parsecs' } }];
  assert.deepEqual(fields(spec), [
    'spec.strategy.canary.steps[0].setWeight',
    'spec.strategy.canary.steps[1].setWeight',
    'spec.strategy.canary.steps[2].pause.duration',
  ]);
});

test('both strategies at once are refused', () => {
  const spec = base();
  spec.strategy!.blueGreen = { activeService: 'x' };
  assert.ok(fields(spec).includes('spec.strategy'));
});

test('a selector that does not match the template labels is refused', () => {
  const spec = base();
  spec.template!.metadata!.labels = { app: 'b' };
  assert.deepEqual(fields(spec), ['spec.template.metadata.labels']);
});

const withRouter = (spec: RolloutSpec) => {
  Object.assign(spec.strategy!.canary!, { canaryService: 'c', stableService: 's', trafficRouting: { nginx: { stableIngress: 'i' } } });
  return spec;
};

test('setCanaryScale runs behind a router; without one, trafficRouting is named (as Argo does)', () => {
  const spec = base();
  spec.strategy!.canary!.steps = [{ setCanaryScale: { replicas: 2 } }, { setWeight: 20 }, { setCanaryScale: { matchTrafficWeight: true } }];
  assert.deepEqual(fields(spec), ['spec.strategy.canary.trafficRouting']);
  assert.match(validateRolloutSpec(spec)[0].message, /setCanaryScale steps require trafficRouting/);
  assert.deepEqual(fields(withRouter(spec)), []);
});

test('setCanaryScale values are checked', () => {
  const spec = withRouter(base());
  spec.strategy!.canary!.steps = [
    { setCanaryScale: { weight: 120 } },
    { setCanaryScale: { replicas: -1 } },
    { setCanaryScale: { matchTrafficWeight: 'yes' as unknown as boolean } },
  ];
  assert.deepEqual(fields(spec), [
    'spec.strategy.canary.steps[0].setCanaryScale.weight',
    'spec.strategy.canary.steps[1].setCanaryScale.replicas',
    'spec.strategy.canary.steps[2].setCanaryScale.matchTrafficWeight',
  ]);
});

test('dynamicStableScale needs a router and excludes scaleDownDelaySeconds; minPodsPerReplicaSet is a count', () => {
  const spec = base();
  spec.strategy!.canary!.dynamicStableScale = true;
  assert.deepEqual(fields(spec), ['spec.strategy.canary.dynamicStableScale']);
  withRouter(spec);
  assert.deepEqual(fields(spec), []);
  spec.strategy!.canary!.scaleDownDelaySeconds = 10;
  assert.deepEqual(fields(spec), ['spec.strategy.canary.dynamicStableScale']);
  delete spec.strategy!.canary!.scaleDownDelaySeconds;
  spec.strategy!.canary!.minPodsPerReplicaSet = 1.5;
  assert.deepEqual(fields(spec), ['spec.strategy.canary.minPodsPerReplicaSet']);
  spec.strategy!.canary!.minPodsPerReplicaSet = 2;
  assert.deepEqual(fields(spec), []);
});
