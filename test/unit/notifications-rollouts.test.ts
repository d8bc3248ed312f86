// Argo Rollouts notifications: events read off successive observations of a Rollout (the
// first is the baseline), their trigger names as Argo derives them from event reasons, the
// built-in catalog, and one send per event and subscribed destination.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { ROLLOUTS_CATALOG, ROLLOUT_EVENT_REASONS, triggerForReason } from '../../domain/notifications/rollout-catalog';
import {
  decideRolloutNotifications,
  emptyRolloutNotificationState,
  observeRollout,
  rolloutEvents,
  type RolloutObservation,
} from '../../domain/notifications/rollout-events';
import { subscriptionsFor } from '../../domain/notifications/subscriptions';
import { propertyOptions } from '../support/property-options';
import { renderNotification } from '../../activities/notifications/render';
import { goTemplateEngine } from '../../activities/templating/go-template';
import { ensureGoTemplate } from '../../stack/toolchain';

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
});
after(() => goTemplateEngine().close());

const obs = (o: Partial<RolloutObservation> = {}): RolloutObservation => ({
  paused: false,
  aborted: false,
  completed: false,
  replicaSets: {},
  analysisRuns: {},
  ...o,
});

test("trigger names follow Argo Rollouts' translation of event reasons", () => {
  assert.deepEqual(ROLLOUT_EVENT_REASONS.map(triggerForReason).sort(), [
    'on-analysis-run-error',
    'on-analysis-run-failed',
    'on-analysis-run-running',
    'on-rollout-aborted',
    'on-rollout-completed',
    'on-rollout-paused',
    'on-rollout-step-completed',
    'on-rollout-updated',
    'on-scaling-replica-set',
  ]);
  for (const [name, conditions] of Object.entries(ROLLOUTS_CATALOG.triggers)) {
    for (const t of conditions[0].send) assert.ok(ROLLOUTS_CATALOG.templates[t], `${name} sends ${t}, which the catalog defines`);
  }
});

test("Rollouts' ConfigMap: triggers without `when` are read (events, not conditions); the catalog fills in", () => {
  const cfg = parseNotificationConfig(
    { 'trigger.on-rollout-aborted': '- send: [mine]', 'template.mine': 'message: aborted {{.rollout.metadata.name}}' },
    {},
    ROLLOUTS_CATALOG,
  );
  assert.deepEqual(cfg.problems, []);
  assert.deepEqual(cfg.triggers['on-rollout-aborted'], [{ when: '', send: ['mine'] }]);
  assert.deepEqual(cfg.triggers['on-analysis-run-failed'], [{ when: '', send: ['analysis-run-failed'] }]);
  assert.match(
    parseNotificationConfig({ 'trigger.x': '- send: [y]' }).problems.join(),
    /trigger\.x\[0\]: a condition needs a `when`/,
    'Argo CD triggers still need one',
  );
});

test('observeRollout reads the status, its ReplicaSets and AnalysisRuns', () => {
  const o = observeRollout(
    { spec: {}, status: { phase: 'Healthy', currentPodHash: 'b', stableRS: 'b', currentStepIndex: 3, abort: false, pauseConditions: null } },
    [{ name: 'ro-b', replicas: 5 }],
    [{ name: 'ro-b-2-1', phase: 'Successful' }, { name: 'new' }],
  );
  assert.deepEqual(o, {
    hash: 'b',
    stableHash: 'b',
    step: 3,
    paused: false,
    aborted: false,
    completed: true,
    replicaSets: { 'ro-b': 5 },
    analysisRuns: { 'ro-b-2-1': 'Successful' },
  });
});

test('an update aborted by a failed analysis: updated, scaled, step completed, analysis running then failed, aborted', () => {
  const stable = obs({ hash: 'a', stableHash: 'a', step: 2, completed: true, replicaSets: { 'ro-a': 5 } });
  assert.deepEqual(rolloutEvents(undefined, stable), [], 'the first observation is the baseline');
  const updated = obs({ hash: 'b', stableHash: 'a', step: 0, replicaSets: { 'ro-a': 5, 'ro-b': 1 } });
  const stepped = { ...updated, step: 1, analysisRuns: { 'ro-b-2-1': 'Running' } };
  const failed = { ...stepped, analysisRuns: { 'ro-b-2-1': 'Failed' }, aborted: true, abortedAt: 't1', replicaSets: { 'ro-a': 5, 'ro-b': 0 } };
  const reasons = (a: RolloutObservation, b: RolloutObservation) => rolloutEvents(a, b).map((e) => `${e.reason}:${e.detail}`);
  assert.deepEqual(reasons(stable, updated), ['RolloutUpdated:b', 'ScalingReplicaSet:ro-b=1']);
  assert.deepEqual(reasons(updated, stepped), ['RolloutStepCompleted:b/0', 'AnalysisRunRunning:ro-b-2-1']);
  assert.deepEqual(reasons(stepped, failed), ['ScalingReplicaSet:ro-b=0', 'AnalysisRunFailed:ro-b-2-1', 'RolloutAborted:b@t1']);
  assert.deepEqual(reasons(failed, failed), [], 'nothing new, nothing sent');
  assert.deepEqual(
    reasons(updated, failed),
    ['ScalingReplicaSet:ro-b=0', 'RolloutStepCompleted:b/0', 'AnalysisRunFailed:ro-b-2-1', 'RolloutAborted:b@t1'],
    'changes seen at once each count',
  );
  const paused = { ...stepped, paused: true };
  const done = obs({ hash: 'b', stableHash: 'b', step: 2, completed: true, replicaSets: { 'ro-a': 0, 'ro-b': 5 } });
  assert.deepEqual(reasons(stepped, paused), ['RolloutPaused:b/1']);
  assert.deepEqual(reasons(paused, done), ['ScalingReplicaSet:ro-a=0', 'ScalingReplicaSet:ro-b=5', 'RolloutStepCompleted:b/1', 'RolloutCompleted:b']);
});

test('decide: one firing per event and subscribed destination; unsubscribed events cost nothing; the catalog template', () => {
  const cfg = parseNotificationConfig({ 'service.slack': 'token: x' }, {}, ROLLOUTS_CATALOG);
  const rollout = {
    metadata: {
      annotations: {
        'notifications.argoproj.io/subscribe.on-rollout-aborted.slack': 'ops;dev',
        'notifications.argoproj.io/subscribe.on-analysis-run-failed.slack': 'ops',
      },
    },
  };
  const subs = subscriptionsFor(cfg, rollout);
  let state = decideRolloutNotifications(obs({ hash: 'a' }), subs, cfg.triggers, emptyRolloutNotificationState()).state;
  const d = decideRolloutNotifications(obs({ hash: 'a', aborted: true, abortedAt: 't', analysisRuns: { r: 'Failed' } }), subs, cfg.triggers, state);
  assert.deepEqual(
    d.firings.map((f) => [f.trigger, f.destination.recipient, f.templates.join()]),
    [
      ['on-analysis-run-failed', 'ops', 'analysis-run-failed'],
      ['on-rollout-aborted', 'ops', 'rollout-aborted'],
      ['on-rollout-aborted', 'dev', 'rollout-aborted'],
    ],
  );
  assert.equal(new Set(d.firings.map((f) => f.key)).size, 3);
  state = d.state;
  assert.deepEqual(decideRolloutNotifications(state.observed!, subs, cfg.triggers, state).firings, [], 'the same observation again sends nothing');
});

test('property: whatever the sequence of observations, an event is never decided twice and every key is unique', () => {
  const arb = fc.array(
    fc.record({
      hash: fc.constantFrom('a', 'b', 'c'),
      step: fc.integer({ min: 0, max: 3 }),
      paused: fc.boolean(),
      aborted: fc.boolean(),
      run: fc.constantFrom('Running', 'Failed', 'Error', 'Successful'),
    }),
    { minLength: 1, maxLength: 30 },
  );
  const cfg = parseNotificationConfig({}, {}, ROLLOUTS_CATALOG);
  const subs = Object.fromEntries(Object.keys(ROLLOUTS_CATALOG.triggers).map((t) => [t, [{ service: 's', recipient: 'r' }]]));
  fc.assert(
    fc.property(arb, (seq) => {
      let state = emptyRolloutNotificationState();
      const keys = new Set<string>();
      for (const o of seq) {
        const observation = obs({
          hash: o.hash,
          step: o.step,
          paused: o.paused,
          aborted: o.aborted,
          abortedAt: o.aborted ? o.hash : undefined,
          analysisRuns: { [`run-${o.hash}`]: o.run },
        });
        const d = decideRolloutNotifications(observation, subs, cfg.triggers, state);
        for (const f of d.firings) {
          assert.ok(!keys.has(f.key), `decided twice: ${f.key}`);
          keys.add(f.key);
          d.state.sends[f.key] = 'sent';
        }
        assert.deepEqual(decideRolloutNotifications(observation, subs, cfg.triggers, d.state).firings, [], 'an unchanged observation sends nothing');
        state = d.state;
      }
    }),
    propertyOptions(),
  );
});

test('the built-in templates render with `.rollout`: message, email subject, Slack attachments as JSON', async () => {
  const rollout = {
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      replicas: 4,
      strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }] } },
      template: {
        spec: {
          containers: [
            { name: 'app', image: 'demo:red' },
            { name: 'proxy', image: 'envoy:1' },
          ],
        },
      },
    },
    status: { currentStepIndex: 1 },
  };
  const data = { rollout, analysisRuns: [], context: {}, secrets: {}, serviceType: 'slack' };
  const aborted = await renderNotification(ROLLOUTS_CATALOG.templates, ['rollout-aborted'], data);
  assert.equal(aborted.message, 'Rollout web has been aborted.');
  assert.deepEqual(aborted.email, { subject: 'Rollout web has been aborted.' });
  assert.deepEqual(JSON.parse((aborted.slack as { attachments: string }).attachments), [
    {
      title: 'web',
      color: '#E96D76',
      fields: [
        { title: 'Strategy', value: 'Canary', short: true },
        { title: 'app', value: 'demo:red', short: true },
        { title: 'proxy', value: 'envoy:1', short: true },
      ],
    },
  ]);
  const step = await renderNotification(ROLLOUTS_CATALOG.templates, ['rollout-step-completed'], data);
  assert.equal(step.message, 'Rollout web step number 2/3 has been completed.');
  for (const name of Object.keys(ROLLOUTS_CATALOG.templates)) {
    const n = await renderNotification(ROLLOUTS_CATALOG.templates, [name], data);
    assert.match(String(n.message), /web/, name);
    JSON.parse((n.slack as { attachments: string }).attachments);
  }
});
