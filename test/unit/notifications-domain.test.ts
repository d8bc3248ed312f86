import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { isSubscribed, subscriptionsFor } from '../../domain/notifications/subscriptions';
import { decideNotifications, emptyNotificationState, triggerView, type NotificationState } from '../../domain/notifications/firing';
import { compileCondition } from '../../domain/analysis/condition';
import { examplesDir } from '../support/paths';
import { propertyOptions } from '../support/property-options';

const example = (name: string): Record<string, any> => parse(readFileSync(path.join(examplesDir, 'notifications', name), 'utf8'));
const cm = example('argocd-notifications-cm.yaml');
const secret = example('argocd-notifications-secret.yaml');
const frontend = example('frontend-app-subscribed.yaml');

function app(phase?: string, health = 'Healthy', revision = 'abc', sync = 'Synced'): Record<string, unknown> {
  return {
    ...frontend,
    status: {
      sync: { status: sync, revision },
      health: { status: health },
      resources: [{ kind: 'Deployment', name: 'web', status: 'Synced' }],
      ...(phase ? { operationState: { phase, message: 'boom', syncResult: { revision } } } : {}),
    },
  };
}

test('the example ConfigMap parses: services with $key from the Secret, templates, triggers, subscriptions', () => {
  const cfg = parseNotificationConfig(cm.data, secret.stringData);
  assert.deepEqual(cfg.problems, []);
  assert.equal(cfg.services.slack.type, 'slack');
  assert.equal(cfg.services.slack.options.token, secret.stringData['slack-token']);
  assert.match(String(cfg.templates['app-deployed'].message), /successfully deployed/);
  assert.equal(cfg.triggers['on-deployment-updated'][0].oncePer, 'app.status.sync.revision');
  assert.deepEqual(cfg.subscriptions, [{ recipients: ['slack'], triggers: ['on-deployed', 'on-sync-failed', 'on-out-of-sync'] }]);
  // The built-in catalog is there under the names the ConfigMap leaves free.
  assert.ok(cfg.triggers['on-sync-running']);
  assert.ok(cfg.templates['app-sync-running']);
});

test('a $key missing from the Secret is named, its value never shown; bad YAML and bad triggers name their key', () => {
  const cfg = parseNotificationConfig(
    {
      'service.webhook.hook': 'url: $url\nheaders:\n- name: X\n  value: $present',
      'trigger.bad': 'when: x',
      'template.t': '{{{',
      'trigger.ok': '- when: "true"\n  send: [nope]',
    },
    { present: 's3cret-value' },
  );
  assert.equal(cfg.services.hook.type, 'webhook');
  assert.ok(cfg.problems.some((p) => p.startsWith('service.webhook.hook: $url not found')));
  assert.ok(cfg.problems.some((p) => p.startsWith('trigger.bad:')));
  assert.ok(cfg.problems.some((p) => p.startsWith('template.t:')));
  assert.ok(cfg.problems.some((p) => p === 'trigger.ok: template nope is not defined'));
  assert.ok(!cfg.problems.join('\n').includes('s3cret-value'));
});

test('subscriptions: subscribe.<trigger>.<service>, subscribe.<service>, the YAML form, the project, the ConfigMap', () => {
  const cfg = parseNotificationConfig({ ...cm.data, defaultTriggers: '- on-sync-running', 'defaultTriggers.hook': '- on-created' }, secret.stringData);
  const a = {
    metadata: {
      labels: { team: 'a' },
      annotations: {
        'notifications.argoproj.io/subscribe.on-deployed.slack': 'c1; c2',
        'notifications.argoproj.io/subscribe.hook': '',
        'notifications.argoproj.io/subscriptions': '- trigger: [on-health-degraded]\n  destinations:\n  - service: slack\n    recipients: [ops]',
      },
    },
  };
  const project = { metadata: { annotations: { 'notifications.argoproj.io/subscribe.slack': 'proj' } } };
  const subs = subscriptionsFor(cfg, a, project);
  assert.deepEqual(subs['on-deployed'], [
    { service: 'slack', recipient: 'c1' },
    { service: 'slack', recipient: 'c2' },
    { service: 'slack', recipient: '' },
  ]);
  assert.deepEqual(subs['on-created'], [{ service: 'hook', recipient: '' }]);
  assert.deepEqual(subs['on-health-degraded'], [{ service: 'slack', recipient: 'ops' }]);
  assert.deepEqual(subs['on-sync-running'], [{ service: 'slack', recipient: 'proj' }]);
  assert.deepEqual(subs['on-out-of-sync'], [{ service: 'slack', recipient: '' }]);
  const selective = parseNotificationConfig({ subscriptions: '- recipients: [slack:x]\n  selector: team=b\n  triggers: [on-created]' });
  assert.equal(subscriptionsFor(selective, a)['on-created'], undefined);
});

test("conditions in Argo's expression forms: in, and/or, ?., any with a predicate, string compare", () => {
  const vars = { app: app('Succeeded') };
  const holds = (e: string): boolean => compileCondition(e, 'when', ['app']).evaluate({ result: undefined, vars });
  assert.equal(holds("app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'"), true);
  assert.equal(holds("app.status.operationState.phase in ['Error', 'Failed'] or app.metadata.name == 'x'"), false);
  assert.equal(holds("any(app.status.resources, {.kind == 'Deployment' and .status == 'Synced'})"), true);
  assert.equal(holds('app.status.nothing?.phase == nil'), true);
  assert.equal(holds("app.metadata.name > 'a'"), true);
  assert.throws(() => holds('application.status == nil'), /unknown name application/);
});

test('on-deployed fires once when the sync succeeds, again only after it stopped holding; on-sync-failed once', () => {
  const cfg = parseNotificationConfig(cm.data, secret.stringData);
  const subs = subscriptionsFor(cfg, frontend);
  let state = emptyNotificationState();
  const step = (a: unknown): string[] => {
    const d = decideNotifications(cfg, subs, { app: a }, state);
    assert.deepEqual(d.problems, []);
    state = d.state;
    for (const f of d.firings) state.sends[f.key] = 'sent';
    return d.firings.map((f) => f.trigger);
  };
  assert.deepEqual(step(app(undefined, 'Missing', 'abc', 'OutOfSync')), ['on-out-of-sync']);
  assert.deepEqual(step(app('Running', 'Progressing')), []);
  assert.deepEqual(step(app('Succeeded')), ['on-deployed']);
  assert.deepEqual(step(app('Succeeded')), []);
  assert.deepEqual(step(app('Failed', 'Degraded')), ['on-sync-failed']);
  assert.deepEqual(step(app('Failed', 'Degraded')), []);
  assert.deepEqual(step(app('Succeeded')), ['on-deployed']);
});

test('a firing recorded as pending is not decided again (a crash between record and send resends nothing new)', () => {
  const cfg = parseNotificationConfig(cm.data, secret.stringData);
  const subs = subscriptionsFor(cfg, frontend);
  const first = decideNotifications(cfg, subs, { app: app('Succeeded') }, emptyNotificationState());
  const state: NotificationState = { ...first.state, sends: Object.fromEntries(first.firings.map((f) => [f.key, 'pending' as const])) };
  assert.deepEqual(decideNotifications(cfg, subs, { app: app('Succeeded') }, state).firings, []);
});

test('property: a condition that stays true never fires twice; each oncePer value fires once', () => {
  const cfg = parseNotificationConfig(
    {
      'trigger.flag': '- when: app.flag\n  send: [t]',
      'trigger.per-rev': '- when: app.flag\n  oncePer: app.rev\n  send: [t]',
      'template.t': 'message: x',
    },
    {},
    false,
  );
  const subs = { flag: [{ service: 'hook', recipient: '' }], 'per-rev': [{ service: 'hook', recipient: 'r' }] };
  fc.assert(
    fc.property(fc.array(fc.record({ flag: fc.boolean(), rev: fc.constantFrom('a', 'b', 'c') }), { maxLength: 40 }), (steps) => {
      let state = emptyNotificationState();
      let prevFlag = false;
      const perRevFired = new Set<string>();
      for (const s of steps) {
        const d = decideNotifications(cfg, subs, { app: s }, state);
        state = d.state;
        for (const f of d.firings) state.sends[f.key] = 'sent';
        const flagFired = d.firings.filter((f) => f.trigger === 'flag').length;
        assert.equal(flagFired, s.flag && !prevFlag ? 1 : 0);
        for (let i = d.firings.filter((x) => x.trigger === 'per-rev').length; i > 0; i--) {
          assert.ok(!perRevFired.has(s.rev), `revision ${s.rev} fired twice`);
          perRevFired.add(s.rev);
        }
        if (s.flag) assert.ok(perRevFired.has(s.rev));
        prevFlag = s.flag;
      }
    }),
    propertyOptions(),
  );
});

test('isSubscribed: an annotation on the object or its project, or a ConfigMap subscription whose selector matches; else nothing starts', () => {
  const cfg = parseNotificationConfig({ subscriptions: '- recipients: [slack]\n  selector: team=web\n- recipients: []\n' }, {}, false);
  const obj = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({ metadata: { labels, annotations } });
  assert.equal(isSubscribed(cfg.subscriptions, obj({ team: 'db' })), false, 'the selector does not match; an entry without recipients subscribes nobody');
  assert.equal(isSubscribed(cfg.subscriptions, obj({ team: 'web' })), true);
  assert.equal(isSubscribed([], obj({}, { 'notifications.argoproj.io/subscribe.on-deployed.slack': '' })), true);
  assert.equal(isSubscribed([], obj({}, { 'notifications.argoproj.io/subscriptions': '- trigger: [on-deployed]' })), true);
  assert.equal(isSubscribed([], obj({}, { 'notifications.argoproj.io/other': 'x' })), false);
  assert.equal(isSubscribed([], obj({}), obj({}, { 'notifications.argoproj.io/subscribe.slack': 'chan' })), true);
  const every = parseNotificationConfig({ subscriptions: '- recipients: [slack]\n  triggers: [on-deployed]\n' }, {}, false);
  assert.equal(isSubscribed(every.subscriptions, obj({})), true, 'no selector selects every object');
});

test('property: starting on the first holding condition and deciding only when triggerView changes sends exactly what deciding on every status change sends (the watcher does that)', () => {
  const cfg = parseNotificationConfig(cm.data, secret.stringData);
  const subs = subscriptionsFor(cfg, frontend);
  const status = fc.record({
    phase: fc.constantFrom(undefined, 'Running', 'Succeeded', 'Failed', 'Error'),
    health: fc.constantFrom('Healthy', 'Progressing', 'Degraded', 'Missing'),
    revision: fc.constantFrom('abc', 'def'),
    sync: fc.constantFrom('Synced', 'OutOfSync'),
  });
  const sent = (apps: unknown[], wake: (a: unknown, i: number) => boolean): string[] => {
    let state = emptyNotificationState();
    const out: string[] = [];
    apps.forEach((a, i) => {
      if (!wake(a, i)) return;
      const d = decideNotifications(cfg, subs, { app: a }, state);
      state = d.state;
      for (const f of d.firings) {
        state.sends[f.key] = 'sent';
        out.push(f.key);
      }
    });
    return out;
  };
  fc.assert(
    fc.property(fc.array(status, { maxLength: 30 }), (steps) => {
      const apps = steps.map((s) => app(s.phase, s.health, s.revision, s.sync));
      // As the watcher: no workflow until a subscribed condition holds, then a wake-up per change.
      let known: string | undefined;
      const filtered = sent(apps, (a) => {
        const view = triggerView(cfg, { app: a }, Object.keys(subs));
        assert.ok(view, 'the example triggers read only the Application');
        if (view.view === known || (known === undefined && !view.holds)) return false;
        known = view.view;
        return true;
      });
      assert.deepEqual(
        filtered,
        sent(apps, () => true),
      );
    }),
    propertyOptions(),
  );
  assert.equal(
    triggerView(parseNotificationConfig({ 'trigger.p': '- when: appProject.metadata.name == "x"\n  send: [t]' }, {}, false), { app: {} }),
    undefined,
  );
});
