// teams, teams-workflows, github, pagerdutyv2 and opsgenie against a local HTTP server that
// stands in for the hosted service: it checks the request shape each service documents
// (path, auth header, body fields) and answers as the service does, refusals included.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { renderNotification } from '../../activities/notifications/render';
import { SERVICES } from '../../activities/notifications/services';
import { PermanentSendError, type Notification } from '../../activities/notifications/service';
import { fullNameByRepoURL, githubApiRoot } from '../../activities/notifications/github';
import { goTemplateEngine } from '../../activities/templating/go-template';
import { ensureGoTemplate } from '../../stack/toolchain';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}
type Answer = { status: number; body: unknown; headers?: Record<string, string> };
const received: Received[] = [];
let answer: (r: Received) => Answer = () => ({ status: 200, body: {} });
let server: http.Server;
let base = '';

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
      received.push(r);
      const a = answer(r);
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json', ...a.headers }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  goTemplateEngine().close();
});

const app = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'frontend-app', namespace: 'argocd' },
  spec: { source: { repoURL: 'https://github.com/acme/frontend.git' } },
  status: {
    sync: { status: 'Synced', revision: 'c0ffee' },
    health: { status: 'Healthy' },
    operationState: { phase: 'Succeeded', syncResult: { revision: 'c0ffee' } },
  },
};
const ctx = { idempotencyKey: 'uid-1/on-deployed[0]|flip:1|svc:team' };
const reset = (a: (r: Received) => Answer) => {
  received.length = 0;
  answer = a;
};
const rejectsWith = (p: Promise<unknown>, permanent: boolean, pattern: RegExp, secret?: string) =>
  assert.rejects(p, (err: Error) => {
    assert.equal(err instanceof PermanentSendError, permanent, `${permanent ? 'permanent' : 'retryable'} expected: ${err.message}`);
    assert.match(err.message, pattern);
    if (secret) assert.ok(!err.message.includes(secret), err.message);
    return true;
  });
const render = (cfg: ReturnType<typeof parseNotificationConfig>, serviceType: string): Promise<Notification> =>
  renderNotification(cfg.templates, ['t'], { app, context: {}, secrets: {}, serviceType });

test('teams: a MessageCard with title, text, themeColor, facts, sections and actions to the recipient URL; the connector answers 1', async () => {
  const cfg = parseNotificationConfig(
    {
      'service.teams': `recipientUrls:\n  channelName: $channel-teams-url`,
      'template.t': [
        'message: fallback text',
        'teams:',
        '  title: Deployed {{.app.metadata.name}}',
        '  text: "{{.app.metadata.name}} runs {{.app.status.sync.revision}}"',
        '  themeColor: "#000080"',
        '  summary: deployed',
        '  facts: |',
        '    [{"name": "Revision", "value": "{{.app.status.sync.revision}}"}]',
        '  sections: |',
        '    [{"activityTitle": "sync"}]',
        '  potentialAction: |',
        '    [{"@type": "OpenUri", "name": "Open", "targets": [{"os": "default", "uri": "https://argocd.example.com/applications/{{.app.metadata.name}}"}]}]',
      ].join('\n'),
    },
    { 'channel-teams-url': `${base}/webhookb2/abc/IncomingWebhook/def` },
    false,
  );
  reset(() => ({ status: 200, body: '1' }));
  const n = await render(cfg, 'teams');
  await SERVICES.teams.send(n, { service: 'teams', recipient: 'channelName' }, cfg.services.teams, ctx);
  assert.equal(received.length, 1);
  const r = received[0];
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/webhookb2/abc/IncomingWebhook/def');
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.equal(r.json['@type'], 'MessageCard');
  assert.equal(r.json['@context'], 'https://schema.org/extensions');
  assert.equal(r.json.title, 'Deployed frontend-app');
  assert.equal(r.json.text, 'frontend-app runs c0ffee');
  assert.equal(r.json.themeColor, '#000080');
  assert.equal(r.json.summary, 'deployed');
  assert.deepEqual(r.json.sections, [{ activityTitle: 'sync' }, { facts: [{ name: 'Revision', value: 'c0ffee' }] }]);
  assert.equal(r.json.potentialAction[0].targets[0].uri, 'https://argocd.example.com/applications/frontend-app');

  // The whole payload from teams.template, as it is.
  reset(() => ({ status: 200, body: '1' }));
  await SERVICES.teams.send({ teams: { template: '{"text":"raw"}' } }, { service: 'teams', recipient: 'channelName' }, cfg.services.teams, ctx);
  assert.equal(received[0].body, '{"text":"raw"}');

  // Refusals: an unknown recipient, a bad payload (400), a refusal in a 200, throttling relayed in a 200.
  await rejectsWith(
    SERVICES.teams.send(n, { service: 'teams', recipient: 'other' }, cfg.services.teams, ctx),
    true,
    /service\.teams: no webhook URL for recipient "other"/,
  );
  reset(() => ({ status: 400, body: 'Bad payload received by generic incoming webhook.' }));
  await rejectsWith(
    SERVICES.teams.send(n, { service: 'teams', recipient: 'channelName' }, cfg.services.teams, ctx),
    true,
    /teams: the server answered 400/,
    '/webhookb2/abc',
  );
  reset(() => ({ status: 200, body: 'Summary or Text is required.' }));
  await rejectsWith(
    SERVICES.teams.send(n, { service: 'teams', recipient: 'channelName' }, cfg.services.teams, ctx),
    true,
    /refused the message for channelName: Summary or Text/,
  );
  reset(() => ({ status: 200, body: 'Microsoft Teams endpoint returned HTTP error 429 with ContextId ...' }));
  await rejectsWith(SERVICES.teams.send(n, { service: 'teams', recipient: 'channelName' }, cfg.services.teams, ctx), false, /429/);
  await rejectsWith(
    SERVICES.teams.send({ teams: { facts: '[{"name":' } }, { service: 'teams', recipient: 'channelName' }, cfg.services.teams, ctx),
    true,
    /teams: the template's facts is not valid JSON/,
  );
});

test('teams-workflows: an Adaptive Card in a message to a Workflows URL; other URLs are refused as Argo refuses them', async () => {
  const cfg = parseNotificationConfig(
    {
      'service.teams-workflows': `recipientUrls:\n  ops: ${base}/powerautomate/automations/direct/workflows/1/triggers/manual/paths/invoke?sig=SIG\n  plain: ${base}/hook`,
      'template.t': [
        'message: "{{.app.metadata.name}} deployed"',
        'teams-workflows:',
        '  title: Deployed',
        '  themeColor: Good',
        '  facts: |',
        '    [{"name": "Revision", "value": "{{.app.status.sync.revision}}"}]',
        '  potentialAction: |',
        '    [{"@type": "OpenUri", "name": "Open", "targets": [{"uri": "https://argocd.example.com"}]}]',
      ].join('\n'),
    },
    {},
    false,
  );
  reset(() => ({ status: 202, body: '' }));
  const n = await render(cfg, 'teams-workflows');
  await SERVICES['teams-workflows'].send(n, { service: 'teams-workflows', recipient: 'ops' }, cfg.services['teams-workflows'], ctx);
  const r = received[0];
  assert.match(r.url, /^\/powerautomate\/.*sig=SIG$/);
  assert.equal(r.json.type, 'message');
  assert.equal(r.json.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
  const card = r.json.attachments[0].content;
  assert.equal(card.type, 'AdaptiveCard');
  assert.deepEqual(card.body[0], { type: 'TextBlock', text: 'Deployed', size: 'Large', weight: 'Bolder', color: 'Good', wrap: true });
  assert.deepEqual(card.body[1], { type: 'TextBlock', text: 'frontend-app deployed', wrap: true });
  assert.deepEqual(card.body[2], { type: 'FactSet', facts: [{ title: 'Revision', value: 'c0ffee' }] });
  assert.deepEqual(card.actions, [{ type: 'Action.OpenUrl', title: 'Open', url: 'https://argocd.example.com' }]);
  await rejectsWith(
    SERVICES['teams-workflows'].send(n, { service: 'teams-workflows', recipient: 'plain' }, cfg.services['teams-workflows'], ctx),
    true,
    /not an HTTPS Teams Workflows/,
  );
  reset(() => ({ status: 200, body: '' }));
  await SERVICES['teams-workflows'].send(
    { 'teams-workflows': { adaptiveCard: '{"type":"AdaptiveCard","version":"1.5","body":[]}' } },
    { service: 'teams-workflows', recipient: 'ops' },
    cfg.services['teams-workflows'],
    ctx,
  );
  assert.deepEqual(received[0].json.attachments[0].content, { type: 'AdaptiveCard', version: '1.5', body: [] });
});

const githubTemplate = [
  'message: "Application {{.app.metadata.name}} is now running new version."',
  'github:',
  '  status:',
  '    state: success',
  '    label: continuous-delivery/{{.app.metadata.name}}',
  '    targetURL: https://argocd.example.com/applications/{{.app.metadata.name}}',
  '  deployment:',
  '    state: success',
  '    environment: production',
  '    environmentURL: https://{{.app.metadata.name}}.example.com',
  '    logURL: https://argocd.example.com/applications/{{.app.metadata.name}}?operation=true',
  '    requiredContexts: []',
].join('\n');

test('github with a token: a commit status on the synced revision, and a deployment (reused when it exists) with a status', async () => {
  const cfg = parseNotificationConfig(
    { 'service.github': `apiURL: ${base}/api/v3\ntoken: $github-token`, 'template.t': githubTemplate },
    { 'github-token': 'ghp_SECRET' },
    false,
  );
  const deployments: Array<{ id: number; ref: string; environment: string }> = [];
  const github = (r: Received): Answer => {
    assert.equal(r.headers.authorization, 'Bearer ghp_SECRET');
    assert.equal(r.headers.accept, 'application/vnd.github+json');
    if (r.method === 'GET' && r.url.startsWith('/api/v3/repos/acme/frontend/deployments?')) {
      const q = new URL(r.url, base).searchParams;
      return { status: 200, body: deployments.filter((d) => d.ref === q.get('ref') && d.environment === q.get('environment')) };
    }
    if (r.method === 'POST' && r.url === '/api/v3/repos/acme/frontend/deployments') {
      deployments.push({ id: 42, ref: r.json.ref, environment: r.json.environment });
      return { status: 201, body: { id: 42 } };
    }
    return { status: 201, body: {} };
  };
  reset(github);
  const n = await render(cfg, 'github');
  await SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  assert.deepEqual(
    received.map((r) => `${r.method} ${r.url}`),
    [
      'POST /api/v3/repos/acme/frontend/statuses/c0ffee',
      'GET /api/v3/repos/acme/frontend/deployments?ref=c0ffee&environment=production',
      'POST /api/v3/repos/acme/frontend/deployments',
      'POST /api/v3/repos/acme/frontend/deployments/42/statuses',
    ],
  );
  assert.deepEqual(received[0].json, {
    state: 'success',
    description: 'Application frontend-app is now running new version.',
    context: 'continuous-delivery/frontend-app',
    target_url: 'https://argocd.example.com/applications/frontend-app',
  });
  assert.deepEqual(received[2].json, {
    ref: 'c0ffee',
    environment: 'production',
    required_contexts: [],
    auto_merge: true,
    transient_environment: false,
    description: 'Application frontend-app is now running new version.',
  });
  assert.deepEqual(received[3].json, {
    state: 'success',
    description: 'Application frontend-app is now running new version.',
    environment: 'production',
    log_url: 'https://argocd.example.com/applications/frontend-app?operation=true',
    environment_url: 'https://frontend-app.example.com',
  });
  // A retry finds the deployment and adds a status to it.
  reset(github);
  await SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  assert.deepEqual(
    received.map((r) => `${r.method} ${r.url.split('?')[0]}`),
    [
      'POST /api/v3/repos/acme/frontend/statuses/c0ffee',
      'GET /api/v3/repos/acme/frontend/deployments',
      'POST /api/v3/repos/acme/frontend/deployments/42/statuses',
    ],
  );
  assert.equal(deployments.length, 1);

  // Refusals: too many statuses (422) and a missing repository are permanent, a rate limit is not.
  reset(() => ({ status: 422, body: { message: 'Validation Failed' } }));
  await rejectsWith(
    SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx),
    true,
    /github: the server answered 422: Validation Failed/,
    'ghp_SECRET',
  );
  reset(() => ({ status: 404, body: { message: 'Not Found' } }));
  await rejectsWith(SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx), true, /404/);
  reset(() => ({ status: 403, body: { message: 'API rate limit exceeded' }, headers: { 'x-ratelimit-remaining': '0' } }));
  await rejectsWith(SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx), false, /403/);
  reset(() => ({ status: 403, body: { message: 'Resource not accessible by integration' } }));
  await rejectsWith(SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx), true, /403/);
});

test('github as an App: a JWT signed with the private key buys an installation token, kept until it expires', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cfg = parseNotificationConfig(
    {
      'service.github': `apiURL: ${base}\nappID: 12345\ninstallationID: 67890\nprivateKey: $github-privateKey`,
      'template.t':
        'message: ok\ngithub:\n  repoURLPath: "{{.app.spec.source.repoURL}}"\n  revisionPath: "{{.app.status.sync.revision}}"\n  status:\n    state: pending\n    label: cd',
    },
    { 'github-privateKey': pem },
    false,
  );
  reset((r) => {
    if (r.url === '/app/installations/67890/access_tokens') {
      const [h, p, s] = String(r.headers.authorization)
        .replace(/^Bearer /, '')
        .split('.');
      assert.ok(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url')), 'the JWT is signed with the App key');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      assert.equal(claims.iss, '12345');
      assert.ok(claims.exp > Date.now() / 1000 && claims.exp - claims.iat <= 600);
      return { status: 201, body: { token: 'ghs_INSTALLATION', expires_at: new Date(Date.now() + 3_600_000).toISOString() } };
    }
    assert.equal(r.headers.authorization, 'token ghs_INSTALLATION');
    return { status: 201, body: {} };
  });
  const n = await render(cfg, 'github');
  await SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  await SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  assert.deepEqual(
    received.map((r) => r.url),
    ['/app/installations/67890/access_tokens', '/repos/acme/frontend/statuses/c0ffee', '/repos/acme/frontend/statuses/c0ffee'],
  );
  assert.deepEqual(received[1].json, { state: 'pending', description: 'ok', context: 'cd' });
  const noAuth = parseNotificationConfig({ 'service.github': `apiURL: ${base}` }, {}, false);
  await rejectsWith(
    SERVICES.github.send(n, { service: 'github', recipient: '' }, noAuth.services.github, ctx),
    true,
    /service\.github: needs appID, installationID and privateKey/,
  );
});

test('github: owner/repo from any git URL form, and the REST root as go-github derives it from enterpriseBaseURL', () => {
  assert.equal(fullNameByRepoURL('https://github.com/acme/frontend.git'), 'acme/frontend');
  assert.equal(fullNameByRepoURL('git@github.com:acme/frontend.git'), 'acme/frontend');
  assert.equal(fullNameByRepoURL('ssh://git@github.example.com/acme/frontend'), 'acme/frontend');
  assert.equal(fullNameByRepoURL('https://github.com/acme'), undefined);
  assert.equal(githubApiRoot({}), 'https://api.github.com');
  assert.equal(githubApiRoot({ enterpriseBaseURL: 'https://ghe.example.com' }), 'https://ghe.example.com/api/v3');
  assert.equal(githubApiRoot({ enterpriseBaseURL: 'https://ghe.example.com/api/v3/' }), 'https://ghe.example.com/api/v3');
});

test('github: a pull request comment (edited, not repeated, on a retry), a check run and a repository dispatch', async () => {
  const cfg = parseNotificationConfig(
    {
      'service.github': `apiURL: ${base}\ntoken: $t`,
      'template.t': [
        'message: ok',
        'github:',
        '  pullRequestComment:',
        '    content: "{{.app.metadata.name}} synced to {{.app.status.sync.revision}}"',
        '    commentTag: deploy',
        '  checkRun:',
        '    name: argocd/{{.app.metadata.name}}',
        '    details_url: https://argocd.example.com',
        '    conclusion: success',
        '    started_at: "2026-12-04T10:00:00Z"',
        '    completed_at: "2026-12-04T10:01:00+00:00"',
        '    output:',
        '      title: Deployed',
        '      summary: "{{.app.metadata.name}}"',
        '  repositoryDispatch:',
        '    event_type: deployed',
        '    client_payload: \'{"app": "{{.app.metadata.name}}"}\'',
      ].join('\n'),
    },
    { t: 'ghp_T' },
    false,
  );
  const comments: Array<{ id: number; body: string }> = [];
  const github = (r: Received): Answer => {
    if (r.method === 'GET' && r.url.startsWith('/repos/acme/frontend/commits/c0ffee/pulls')) return { status: 200, body: [{ number: 7 }] };
    if (r.method === 'GET' && r.url.startsWith('/repos/acme/frontend/issues/7/comments')) return { status: 200, body: comments };
    if (r.method === 'POST' && r.url === '/repos/acme/frontend/issues/7/comments') {
      comments.push({ id: 100 + comments.length, body: r.json.body });
      return { status: 201, body: {} };
    }
    if (r.method === 'PATCH' && r.url.startsWith('/repos/acme/frontend/issues/comments/')) {
      comments.find((c) => c.id === Number(r.url.split('/').pop()))!.body = r.json.body;
      return { status: 200, body: {} };
    }
    return { status: 201, body: {} };
  };
  reset(github);
  const n = await render(cfg, 'github');
  await SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  assert.deepEqual(
    received.map((r) => `${r.method} ${r.url.split('?')[0]}`),
    [
      'GET /repos/acme/frontend/commits/c0ffee/pulls',
      'GET /repos/acme/frontend/issues/7/comments',
      'POST /repos/acme/frontend/issues/7/comments',
      'POST /repos/acme/frontend/check-runs',
      'POST /repos/acme/frontend/dispatches',
    ],
  );
  assert.deepEqual(comments, [{ id: 100, body: 'frontend-app synced to c0ffee\n<!-- argocd-notifications deploy -->' }]);
  assert.deepEqual(received[3].json, {
    name: 'argocd/frontend-app',
    head_sha: 'c0ffee',
    external_id: 'argocd-notifications',
    details_url: 'https://argocd.example.com',
    status: 'completed',
    conclusion: 'success',
    started_at: '2026-12-04T10:00:00Z',
    completed_at: '2026-12-04T10:01:00Z',
    output: { title: 'Deployed', summary: 'frontend-app', text: '' },
  });
  assert.deepEqual(received[4].json, { event_type: 'deployed', client_payload: { app: 'frontend-app' } });
  // A retry edits the tagged comment.
  reset(github);
  await SERVICES.github.send(n, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  assert.equal(comments.length, 1);
  assert.ok(received.some((r) => r.method === 'PATCH' && r.url === '/repos/acme/frontend/issues/comments/100'));
  // Without a tag, the firing tags it: the same firing edits, another firing adds a comment.
  const untagged = {
    message: 'ok',
    github: { repoURLPath: 'https://github.com/acme/frontend', revisionPath: 'c0ffee', pullRequestComment: { content: 'hello' } },
  };
  reset(github);
  await SERVICES.github.send(untagged, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  await SERVICES.github.send(untagged, { service: 'github', recipient: '' }, cfg.services.github, ctx);
  await SERVICES.github.send(untagged, { service: 'github', recipient: '' }, cfg.services.github, { idempotencyKey: 'another firing' });
  assert.equal(comments.length, 3);
  assert.match(comments[1].body, /^hello\n<!-- sluice-notification [0-9a-f]{16} -->$/);
  // Bad check run fields are refused before anything is sent.
  reset(github);
  const badRun = {
    message: 'ok',
    github: {
      repoURLPath: 'https://github.com/acme/frontend',
      revisionPath: 'c0ffee',
      status: { state: 'success', label: 'cd' },
      checkRun: { name: 'x', status: 'completed' },
    },
  };
  await rejectsWith(SERVICES.github.send(badRun, { service: 'github', recipient: '' }, cfg.services.github, ctx), true, /checkRun needs a conclusion/);
  const badTime = {
    message: 'ok',
    github: { repoURLPath: 'https://github.com/acme/frontend', revisionPath: 'c0ffee', checkRun: { name: 'x', started_at: 'yesterday' } },
  };
  await rejectsWith(
    SERVICES.github.send(badTime, { service: 'github', recipient: '' }, cfg.services.github, ctx),
    true,
    /checkRun\.started_at "yesterday" is not an RFC 3339 time/,
  );
  assert.equal(received.length, 0);
});

test('pagerdutyv2: a trigger event with the routing key of the recipient and a dedup key that is the same on a retry', async () => {
  const cfg = parseNotificationConfig(
    {
      'service.pagerdutyv2': `apiURL: ${base}\nserviceKeys:\n  my-service: $pagerduty-key-my-service`,
      'template.t': [
        'message: x',
        'pagerdutyv2:',
        '  summary: "Application {{.app.metadata.name}} has failed"',
        '  severity: critical',
        '  source: "{{.app.metadata.name}}"',
        '  component: frontend',
        '  group: web',
        '  class: deploy',
        '  url: https://argocd.example.com/applications/{{.app.metadata.name}}',
      ].join('\n'),
    },
    { 'pagerduty-key-my-service': 'R0UTINGKEY0000000000000000000000' },
    false,
  );
  reset(() => ({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'k' } }));
  const n = await render(cfg, 'pagerdutyv2');
  await SERVICES.pagerdutyv2.send(n, { service: 'pagerdutyv2', recipient: 'my-service' }, cfg.services.pagerdutyv2, ctx);
  await SERVICES.pagerdutyv2.send(n, { service: 'pagerdutyv2', recipient: 'my-service' }, cfg.services.pagerdutyv2, ctx);
  assert.equal(received[0].url, '/v2/enqueue');
  assert.deepEqual(received[0].json, {
    routing_key: 'R0UTINGKEY0000000000000000000000',
    event_action: 'trigger',
    dedup_key: ctx.idempotencyKey,
    payload: {
      summary: 'Application frontend-app has failed',
      severity: 'critical',
      source: 'frontend-app',
      component: 'frontend',
      group: 'web',
      class: 'deploy',
    },
    client: 'Sluice',
    client_url: 'https://argocd.example.com/applications/frontend-app',
  });
  assert.equal(received[1].json.dedup_key, received[0].json.dedup_key);

  reset(() => ({
    status: 400,
    body: { status: 'invalid event', message: 'Event object is invalid', errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"] },
  }));
  await rejectsWith(
    SERVICES.pagerdutyv2.send(n, { service: 'pagerdutyv2', recipient: 'my-service' }, cfg.services.pagerdutyv2, ctx),
    true,
    /pagerdutyv2: the server answered 400: Event object is invalid: Length of 'routing_key'/,
    'R0UTINGKEY',
  );
  reset(() => ({ status: 429, body: {} }));
  await rejectsWith(SERVICES.pagerdutyv2.send(n, { service: 'pagerdutyv2', recipient: 'my-service' }, cfg.services.pagerdutyv2, ctx), false, /429/);
  await rejectsWith(
    SERVICES.pagerdutyv2.send(n, { service: 'pagerdutyv2', recipient: 'nope' }, cfg.services.pagerdutyv2, ctx),
    true,
    /no service key for recipient "nope"/,
  );
  const bad = { ...n, pagerdutyv2: { ...(n.pagerdutyv2 as object), severity: 'fatal' } };
  await rejectsWith(
    SERVICES.pagerdutyv2.send(bad, { service: 'pagerdutyv2', recipient: 'my-service' }, cfg.services.pagerdutyv2, ctx),
    true,
    /severity "fatal"/,
  );
  await rejectsWith(
    SERVICES.pagerdutyv2.send({ message: 'x' }, { service: 'pagerdutyv2', recipient: 'my-service' }, cfg.services.pagerdutyv2, ctx),
    true,
    /no pagerdutyv2 block/,
  );
});

test('opsgenie: an alert for the recipient team with its GenieKey, the template fields, and an alias that dedups retries', async () => {
  const cfg = parseNotificationConfig(
    {
      'service.opsgenie': `apiUrl: ${base}\napiKeys:\n  team-a: $opsgenie-key`,
      'template.t': [
        'message: "[Argo CD] Application {{.app.metadata.name}} has a problem."',
        'opsgenie:',
        '  description: "Application: {{.app.metadata.name}}"',
        '  priority: P1',
        '  tags: ["argocd", "{{.app.metadata.name}}"]',
        '  note: sync failed',
        '  entity: "{{.app.metadata.name}}"',
        '  actions: ["restart"]',
        '  details:',
        '    revision: "{{.app.status.sync.revision}}"',
        '  visibleTo:',
        '    - type: team',
        '      name: "{{.app.metadata.namespace}}-team"',
      ].join('\n'),
    },
    { 'opsgenie-key': 'eb243592-faa2-4ba2-a551q-1afdf565c889' },
    false,
  );
  reset(() => ({ status: 202, body: { result: 'Request will be processed', took: 0.3, requestId: 'r1' } }));
  const n = await render(cfg, 'opsgenie');
  await SERVICES.opsgenie.send(n, { service: 'opsgenie', recipient: 'team-a' }, cfg.services.opsgenie, ctx);
  await SERVICES.opsgenie.send(n, { service: 'opsgenie', recipient: 'team-a' }, cfg.services.opsgenie, ctx);
  const r = received[0];
  assert.equal(r.url, '/v2/alerts');
  assert.equal(r.headers.authorization, 'GenieKey eb243592-faa2-4ba2-a551q-1afdf565c889');
  const { alias, ...rest } = r.json;
  assert.match(alias, /^sluice-[0-9a-f]{40}$/);
  assert.equal(received[1].json.alias, alias);
  assert.deepEqual(rest, {
    message: '[Argo CD] Application frontend-app has a problem.',
    description: 'Application: frontend-app',
    priority: 'P1',
    note: 'sync failed',
    entity: 'frontend-app',
    tags: ['argocd', 'frontend-app'],
    actions: ['restart'],
    details: { revision: 'c0ffee' },
    visibleTo: [{ type: 'team', name: 'argocd-team' }],
    responders: [{ type: 'team', id: 'team-a' }],
    source: 'Sluice',
  });
  reset(() => ({ status: 422, body: { message: 'Request body is not processable. Please check the errors.', took: 0.1 } }));
  await rejectsWith(
    SERVICES.opsgenie.send(n, { service: 'opsgenie', recipient: 'team-a' }, cfg.services.opsgenie, ctx),
    true,
    /opsgenie: the server answered 422: Request body/,
    'eb243592',
  );
  reset(() => ({ status: 401, body: { message: 'Key format is not valid!' } }));
  await rejectsWith(SERVICES.opsgenie.send(n, { service: 'opsgenie', recipient: 'team-a' }, cfg.services.opsgenie, ctx), true, /401/, 'eb243592');
  reset(() => ({ status: 503, body: {} }));
  await rejectsWith(SERVICES.opsgenie.send(n, { service: 'opsgenie', recipient: 'team-a' }, cfg.services.opsgenie, ctx), false, /503/);
  await rejectsWith(
    SERVICES.opsgenie.send(n, { service: 'opsgenie', recipient: 'team-b' }, cfg.services.opsgenie, ctx),
    true,
    /service\.opsgenie: no API key for recipient "team-b" in apiKeys/,
  );
});
