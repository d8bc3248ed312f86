// Bad input through the send activity: a template or trigger that does not parse, a `$key`
// missing from the Secret, an unknown service type, a recipient the service refuses. Each is
// an error naming the trigger, template or service, permanent or retried as the case says,
// never holding a Secret value; the other notifications of the same config still go out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createNotificationActivities, redactSecrets, type SendNotificationInput } from '../../activities/notifications/activities';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { decideNotifications } from '../../domain/notifications/firing';
import { goTemplateEngine } from '../../activities/templating/go-template';
import { ensureGoTemplate } from '../../stack/toolchain';
import type { KubeClient, KubeObject, ResourceRef } from '../../k8s/kube-client';

const SLACK_TOKEN = 'xoxb-very-secret-token';
const HOOK_PASSWORD = 'hook-password-42';
const received: Array<{ url: string; body: string }> = [];
let server: http.Server;
let base = '';

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body });
      if (req.url === '/api/chat.postMessage') {
        const channel = JSON.parse(body).channel;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(channel === 'nope' ? { ok: false, error: 'channel_not_found' } : { ok: true }));
      } else if (req.url?.startsWith('/echo')) {
        // A receiver that quotes the request back, credentials included.
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `bad key ${JSON.parse(body).routing_key}` }));
      } else res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  goTemplateEngine().close();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
function activities(data: Record<string, string>, secret: Record<string, string>) {
  const objects: Record<string, unknown> = {
    'argocd-notifications-cm': { metadata: { name: 'argocd-notifications-cm', namespace: 'argocd' }, data },
    'argocd-notifications-secret': {
      metadata: { name: 'argocd-notifications-secret', namespace: 'argocd' },
      data: Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, b64(v)])),
    },
  };
  // Only what the send activity reads: the ConfigMap and the Secret.
  const kube = { find: async (_res: ResourceRef, _ns: string, name: string) => objects[name] } as unknown as KubeClient;
  return createNotificationActivities(kube);
}

const app = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'frontend-app', namespace: 'argocd', uid: 'uid-1' },
  status: { sync: { status: 'Synced', revision: 'c0ffee' }, operationState: { phase: 'Succeeded' } },
} as unknown as KubeObject;
const input = (service: string, recipient: string, templates = ['ok']): SendNotificationInput => ({
  app,
  appProject: null,
  trigger: 'on-deployed',
  templates,
  destination: { service, recipient },
  idempotencyKey: `uid-1/on-deployed[0]|flip:1|${service}:${recipient}`,
});

function config() {
  return {
    'service.slack': `token: $slack-token\napiURL: ${base}/api`,
    'service.webhook.hook': `url: ${base}/hook\nbasicAuth:\n  username: u\n  password: $hook-password`,
    'service.webhook.broken': `url: ${base}/hook\nheaders:\n- name: X-Token\n  value: $missing-key`,
    'service.pagerdutyv2': `apiURL: ${base}/echo\nserviceKeys:\n  svc: $slack-token`,
    'service.carrier-pigeon': 'loft: roof',
    'template.ok':
      'message: "{{.app.metadata.name}} deployed"\nwebhook:\n  hook:\n    method: POST\n    body: "{{.app.metadata.name}}"\n  broken:\n    method: POST\npagerdutyv2:\n  summary: s\n  severity: info\n  source: x',
    'template.broken': 'message: "{{.app.metadata.name"',
  };
}
const secrets = { 'slack-token': SLACK_TOKEN, 'hook-password': HOOK_PASSWORD };

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, not ${String(err)}`);
    for (const secret of [SLACK_TOKEN, HOOK_PASSWORD, b64(SLACK_TOKEN), b64(HOOK_PASSWORD)])
      assert.ok(!err.message.includes(secret), `a secret in: ${err.message}`);
    return err;
  }
  assert.fail('the send should have failed');
}

test('a template that does not parse: permanent, naming the trigger and the template; the other templates still send', async () => {
  const a = activities(config(), secrets);
  const err = await failure(a.sendNotification(input('hook', '', ['broken'])));
  assert.equal(err.nonRetryable, true);
  assert.match(err.message, /^trigger on-deployed: template broken: /);
  received.length = 0;
  await a.sendNotification(input('hook', '', ['ok']));
  assert.deepEqual(
    received.map((r) => [r.url, r.body]),
    [['/hook', 'frontend-app']],
  );
});

test('a $key missing from the Secret: that service refuses to send, naming the key; the services whose keys are there send', async () => {
  const a = activities(config(), secrets);
  received.length = 0;
  const err = await failure(a.sendNotification(input('broken', '')));
  assert.equal(err.nonRetryable, true);
  assert.equal(err.message, 'service.webhook.broken: $missing-key not found in argocd-notifications-secret');
  assert.equal(received.length, 0, 'nothing sent with "$missing-key" as a header value');
  await a.sendNotification(input('hook', ''));
  await a.sendNotification(input('slack', 'deploys'));
  assert.deepEqual(
    received.map((r) => r.url),
    ['/hook', '/api/chat.postMessage'],
  );
  // The configuration problem is reported too, by key, without values.
  const cfg = parseNotificationConfig(config(), secrets);
  assert.ok(cfg.problems.includes('service.webhook.broken: $missing-key not found in argocd-notifications-secret'));
  assert.ok(!JSON.stringify(cfg.problems).includes(SLACK_TOKEN));
});

test('an unknown service type or a service not configured: permanent, naming it and the known types', async () => {
  const a = activities(config(), secrets);
  const unknown = await failure(a.sendNotification(input('carrier-pigeon', 'roof')));
  assert.equal(unknown.nonRetryable, true);
  assert.match(
    unknown.message,
    /^service\.carrier-pigeon: unknown service type carrier-pigeon \(known: email, github, opsgenie, pagerdutyv2, slack, teams, teams-workflows, webhook\)$/,
  );
  const missing = await failure(a.sendNotification(input('mattermost', 'x')));
  assert.equal(missing.nonRetryable, true);
  assert.match(missing.message, /service mattermost is not configured in argocd-notifications-cm/);
});

test('a recipient the service refuses: permanent, naming the service and recipient, never the token; a failed receiver is retried', async () => {
  const a = activities(config(), secrets);
  const refused = await failure(a.sendNotification(input('slack', 'nope')));
  assert.equal(refused.nonRetryable, true);
  assert.match(refused.message, /^slack: chat\.postMessage refused for nope: channel_not_found$/);
  const notThere = await failure(a.sendNotification(input('pagerdutyv2', 'other')));
  assert.equal(notThere.nonRetryable, true);
  assert.match(notThere.message, /^service\.pagerdutyv2: no service key for recipient "other" in serviceKeys$/);
  // The receiver answers 503 quoting the routing key (the Slack token here): retried, and the key scrubbed.
  const echoed = await failure(a.sendNotification(input('pagerdutyv2', 'svc')));
  assert.equal(echoed.nonRetryable, false);
  assert.equal(echoed.type, 'NotificationNotDelivered');
  assert.equal(echoed.message, 'pagerdutyv2: the server answered 503: bad key ***');
});

test('redactSecrets replaces every Secret value and its base64, longest first; short values are left alone', () => {
  assert.equal(redactSecrets(`a ${SLACK_TOKEN} b ${b64(HOOK_PASSWORD)} c yes`, { ...secrets, flag: 'yes' }), 'a *** b *** c yes');
});

test('a trigger whose condition does not parse: a problem naming the trigger, and the other triggers still fire', () => {
  const cfg = parseNotificationConfig(
    {
      'trigger.on-broken': "- when: app.status.operationState.phase in ['Succeeded'\n  send: [ok]",
      'trigger.on-fine': "- when: app.status.operationState.phase == 'Succeeded'\n  send: [ok]",
      'template.ok': 'message: ok',
    },
    {},
    false,
  );
  const d = decideNotifications(
    cfg,
    { 'on-broken': [{ service: 'hook', recipient: '' }], 'on-fine': [{ service: 'hook', recipient: '' }] },
    { app },
    { conditions: {}, sends: {} },
  );
  assert.equal(d.problems.length, 1);
  assert.match(d.problems[0], /trigger on-broken when/);
  assert.deepEqual(
    d.firings.map((f) => f.trigger),
    ['on-fine'],
  );
});
