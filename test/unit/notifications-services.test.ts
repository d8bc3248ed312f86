// The services against local HTTP servers speaking the shapes they expect (Slack's
// documented chat.postMessage, a plain webhook), and rendering with the Go engine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { renderNotification } from '../../activities/notifications/render';
import { SERVICES } from '../../activities/notifications/services';
import { PermanentSendError } from '../../activities/notifications/service';
import { goTemplateEngine } from '../../activities/templating/go-template';
import { ensureGoTemplate } from '../../stack/toolchain';
import { examplesDir } from '../support/paths';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let answer: (r: Received) => { status: number; body: unknown } = () => ({ status: 200, body: { ok: true } });
let server: http.Server;
let base = '';

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  goTemplateEngine().close();
});

const example = (name: string): Record<string, any> => parse(readFileSync(path.join(examplesDir, 'notifications', name), 'utf8'));
const cm = example('argocd-notifications-cm.yaml');
const secret = example('argocd-notifications-secret.yaml');
const app = {
  ...example('frontend-app-subscribed.yaml'),
  status: { sync: { status: 'Synced', revision: 'c0ffee' }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded' } },
};
const ctx = { idempotencyKey: 'uid-1/on-deployed[0]|flip:1|slack:' };

test("the example's app-deployed template renders the app's fields", async () => {
  const cfg = parseNotificationConfig(cm.data, secret.stringData);
  const n = await renderNotification(cfg.templates, ['app-deployed'], { app, context: {}, secrets: secret.stringData, serviceType: 'slack' });
  assert.match(String(n.message), /Application frontend-app has been successfully deployed!/);
  assert.match(String(n.message), /Revision: c0ffee/);
  assert.match(String(n.message), /Repository: https:\/\/git.example.com\/devops\/ops-deploy/);
  await assert.rejects(
    renderNotification({ broken: { message: '{{.app.metadata.name' } }, ['broken'], { app, context: {}, secrets: {}, serviceType: 'slack' }),
    /template broken/,
  );
});

test('slack with a bot token posts chat.postMessage to apiURL with the channel; ok:false is an error naming the reason', async () => {
  received.length = 0;
  const cfg = parseNotificationConfig({ ...cm.data, 'service.slack': `token: $slack-token\napiURL: ${base}/api` }, { 'slack-token': 'xoxb-123' });
  const n = await renderNotification(cfg.templates, ['app-sync-failed'], {
    app,
    context: {},
    secrets: {},
    serviceType: 'slack',
  });
  await SERVICES.slack.send(n, { service: 'slack', recipient: 'deploys' }, cfg.services.slack, ctx);
  assert.equal(received.length, 1);
  assert.equal(received[0].url, '/api/chat.postMessage');
  assert.equal(received[0].headers.authorization, 'Bearer xoxb-123');
  const body = JSON.parse(received[0].body);
  assert.equal(body.channel, 'deploys');
  assert.match(body.text, /frontend-app sync failed/);
  answer = () => ({ status: 200, body: { ok: false, error: 'channel_not_found' } });
  await assert.rejects(SERVICES.slack.send(n, { service: 'slack', recipient: 'nope' }, cfg.services.slack, ctx), (err: Error) => {
    assert.ok(err instanceof PermanentSendError);
    assert.match(err.message, /channel_not_found/);
    assert.ok(!err.message.includes('xoxb-123'));
    return true;
  });
  answer = () => ({ status: 200, body: { ok: true } });
});

test('slack with an incoming-webhook URL posts the message there', async () => {
  received.length = 0;
  const cfg = parseNotificationConfig({ 'service.slack': 'token: $slack-token' }, { 'slack-token': `${base}/services/T00/B00/XXX` });
  await SERVICES.slack.send({ message: 'hi' }, { service: 'slack', recipient: '' }, cfg.services.slack, ctx);
  assert.equal(received[0].url, '/services/T00/B00/XXX');
  assert.deepEqual(JSON.parse(received[0].body), { text: 'hi' });
});

test('webhook: url + path, method, body, headers, basic auth and the idempotency key; 5xx is retryable, 4xx is not', async () => {
  received.length = 0;
  const cfg = parseNotificationConfig(
    {
      'service.webhook.hook': `url: ${base}/hooks\nheaders:\n- name: X-Token\n  value: $tok\nbasicAuth:\n  username: u\n  password: $pw`,
      'template.t': 'webhook:\n  hook:\n    method: POST\n    path: /app/{{.app.metadata.name}}\n    body: |\n      {"app": "{{.app.metadata.name}}"}',
    },
    { tok: 'T', pw: 'P' },
    false,
  );
  const n = await renderNotification(cfg.templates, ['t'], { app, context: {}, secrets: {}, serviceType: 'webhook' });
  await SERVICES.webhook.send(n, { service: 'hook', recipient: '' }, cfg.services.hook, ctx);
  assert.equal(received[0].method, 'POST');
  assert.equal(received[0].url, '/hooks/app/frontend-app');
  assert.equal(received[0].headers['x-token'], 'T');
  assert.equal(received[0].headers.authorization, `Basic ${Buffer.from('u:P').toString('base64')}`);
  assert.equal(received[0].headers['idempotency-key'], ctx.idempotencyKey);
  assert.deepEqual(JSON.parse(received[0].body), { app: 'frontend-app' });
  answer = () => ({ status: 503, body: {} });
  await assert.rejects(SERVICES.webhook.send(n, { service: 'hook', recipient: '' }, cfg.services.hook, ctx), (e: Error) => !(e instanceof PermanentSendError));
  answer = () => ({ status: 404, body: {} });
  await assert.rejects(SERVICES.webhook.send(n, { service: 'hook', recipient: '' }, cfg.services.hook, ctx), PermanentSendError);
  answer = () => ({ status: 200, body: { ok: true } });
});
