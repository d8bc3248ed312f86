// The API's security properties on the real apiserver, with the shared examples'
// accounts (argocd-cm-accounts.yaml) and per-user RBAC (argocd-rbac-cm.users.yaml):
// 401 without or with a bad, expired or revoked token; 403 for another project's
// application, naming the action and object; 413; 400 with the parser's message;
// RBAC edits apply without a restart; and no token ever reaches a log line or an
// error body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { ApplicationCommands } from '../../api/application-commands';
import { issueBootstrapToken } from '../../api/auth/bootstrap';
import { RolloutCommands } from '../../api/rollout-commands';
import { buildApi } from '../../api/server';
import { cliPath, examplesDir } from '../support/paths';
import { createNamespace, eventually, runCommand, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let connection: Connection;
let api: FastifyInstance;
let url: string;
let sluiceNs: string;
let appsNs: string;
let ns: string;
let adminToken: string;
const logLines: string[] = [];
const bodies: string[] = [];
const tokens: string[] = [];

const readExample = (file: string) =>
  YAML.parse(fs.readFileSync(path.join(examplesDir, 'projects', file), 'utf8')) as KubeObject & { data: Record<string, string> };

async function call(
  method: string,
  urlPath: string,
  opts: { token?: string; body?: string; contentType?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(url + urlPath, { method, headers, body: opts.body });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

function rollout(name: string, app: string | undefined): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: ns, ...(app ? { labels: { 'app.kubernetes.io/instance': app } } : {}) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'demo:1' }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    },
  };
}

before(async () => {
  stack = await testStack();
  sluiceNs = await createNamespace(stack.kube, 'sec-sluice');
  appsNs = await createNamespace(stack.kube, 'sec-apps');
  ns = await createNamespace(stack.kube, 'sec-work');

  // The examples' ConfigMaps, renamed into this test's Sluice namespace.
  const accounts = readExample('argocd-cm-accounts.yaml');
  const rbac = readExample('argocd-rbac-cm.users.yaml');
  await stack.kube.create(Resources.configMap, sluiceNs, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sluice-cm' }, data: accounts.data });
  await stack.kube.create(Resources.configMap, sluiceNs, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sluice-rbac-cm' }, data: rbac.data });
  for (const file of ['team-frontend.yaml', 'team-backend.yaml']) {
    const project = readExample(file);
    await stack.kube.create(Resources.appProject, appsNs, { ...project, metadata: { name: project.metadata.name, namespace: appsNs } });
  }
  for (const file of ['frontend-app.yaml', 'backend-app.yaml']) {
    const app = readExample(file);
    await stack.kube.create(Resources.application, appsNs, { ...app, metadata: { name: app.metadata.name, namespace: appsNs } });
  }
  await stack.kube.create(Resources.rollout, ns, rollout('frontend-web', 'frontend-app'));
  await stack.kube.create(Resources.rollout, ns, rollout('backend-api', 'backend-app'));
  await stack.kube.create(Resources.rollout, ns, rollout('loose', undefined));

  connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection });
  api = buildApi({
    kube: stack.kube,
    commands: new RolloutCommands(client),
    applications: new ApplicationCommands(client),
    sluiceNamespace: sluiceNs,
    controlNamespace: appsNs,
    bodyLimit: 64 * 1024,
    // As a Git webhook would register itself: public, verifying a signature over the raw body.
    routes: [(app) => app.post('/api/webhook-probe', { config: { public: true } }, async (req) => ({ raw: req.rawBody }))],
    log: (msg, fields) => logLines.push(JSON.stringify({ msg, ...fields })),
  });
  url = await api.listen({ host: '127.0.0.1', port: 0 });
  adminToken = (await issueBootstrapToken(stack.kube, sluiceNs)).token;
  tokens.push(adminToken);
});

after(async () => {
  await api?.close();
  await connection?.close();
  await stack?.stop();
});

async function tokenFor(account: string, expiresIn?: number): Promise<string> {
  const res = await call('POST', `/api/v1/accounts/${account}/tokens`, { token: adminToken, body: JSON.stringify(expiresIn ? { expiresIn } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  tokens.push(res.body.token);
  return res.body.token;
}

test('without a valid token every route but health, readiness, metrics and the OpenAPI document answers 401', async () => {
  for (const p of ['/healthz', '/readyz', '/metrics', '/api/openapi.json']) assert.equal((await call('GET', p)).status, 200, p);
  const anonymous = await call('GET', '/api/v1/rollouts');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.body.code, 'Unauthenticated');
  assert.match(anonymous.body.message, /Authorization: Bearer/);
  const mutation = await call('POST', `/api/v1/namespaces/${ns}/rollouts/loose/promote`, { body: '{}' });
  assert.equal(mutation.status, 401);
  const forged = await call('GET', '/api/v1/rollouts', { token: `sluice_0123456789abcdef_${'A'.repeat(43)}` });
  assert.equal(forged.status, 401);
  assert.match(forged.body.message, /unknown or was revoked/);
  assert.equal((await call('GET', '/api/v1/rollouts', { token: 'not-a-token' })).status, 401);
  assert.equal((await call('GET', '/api/v1/session', { token: adminToken })).body.account, 'admin');

  // /metrics counts requests by route pattern and code.
  const metrics = (await call('GET', '/metrics')).body as string;
  assert.match(metrics, /sluice_api_requests_total\{method="GET",route="\/api\/v1\/rollouts",code="401"\} [1-9]/);
  assert.match(metrics, /sluice_api_request_duration_seconds_bucket\{le="0.05",method="GET",route="\/api\/v1\/session"\}/);
  // Phase and sync/health gauges come from the watched objects at scrape time.
  assert.ok(metrics.includes(`sluice_rollout_phase{namespace="${ns}",name="loose",strategy="canary",phase="Progressing"} 1`), 'rollout phase gauge');
  assert.ok(
    metrics.includes(`sluice_rollout_phase{namespace="${ns}",name="loose",strategy="canary",phase="Healthy"} 0`),
    'rollout phase gauge, other phases 0',
  );
  assert.ok(
    metrics.includes(`sluice_app_info{namespace="${appsNs}",name="backend-app",project="team-backend",sync_status="Unknown",health_status="Unknown"} 1`),
    'app info gauge',
  );

  const hook = await call('POST', '/api/webhook-probe', { body: '{ "ref": "refs/heads/main" }' });
  assert.equal(hook.status, 200);
  assert.equal(hook.body.raw, '{ "ref": "refs/heads/main" }');

  const doc = (await call('GET', '/api/openapi.json')).body;
  assert.equal(doc.openapi, '3.0.3');
  assert.ok(doc.paths['/api/v1/namespaces/{namespace}/rollouts/{name}/promote'].post.responses['403']);
});

test("frontend-dev acts on its own project's rollout and gets 403 naming the action and object on another project's", async () => {
  const frontendDev = await tokenFor('frontend-dev');

  // RBAC passes for team-frontend; the command then fails because no workflow runs here.
  const own = await call('POST', `/api/v1/namespaces/${ns}/rollouts/frontend-web/promote`, { token: frontendDev, body: '{}' });
  assert.equal(own.status, 404, JSON.stringify(own.body));
  assert.match(own.body.message, /not managed by Sluice/);

  const other = await call('POST', `/api/v1/namespaces/${ns}/rollouts/backend-api/promote`, { token: frontendDev, body: '{"full":true}' });
  assert.equal(other.status, 403);
  assert.equal(other.body.code, 'PermissionDenied');
  assert.match(other.body.message, /frontend-dev may not action\/argoproj\.io\/Rollout\/promote-full applications team-backend\/backend-app/);

  // A rollout no Application owns is Sluice's `rollouts` resource: readable through role:readonly, not writable.
  const loose = await call('POST', `/api/v1/namespaces/${ns}/rollouts/loose/abort`, { token: frontendDev, body: '{}' });
  assert.equal(loose.status, 403);
  assert.match(loose.body.message, /update rollouts .*\/loose/);

  // can-i answers what the checks above decided.
  const canI = (action: string, object: string) =>
    call('GET', `/api/v1/session/can-i?resource=applications&action=${encodeURIComponent(action)}&object=${encodeURIComponent(object)}`, {
      token: frontendDev,
    });
  assert.equal((await canI('sync', 'team-frontend/frontend-app')).body.value, 'yes');
  assert.equal((await canI('sync', 'team-backend/backend-app')).body.value, 'no');
  assert.equal((await canI('get', 'team-backend/backend-app')).body.value, 'yes');

  // policy.default role:readonly still shows every rollout and application.
  const list = await call('GET', `/api/v1/rollouts?namespace=${ns}`, { token: frontendDev });
  assert.deepEqual(
    list.body.items.map((i: { name: string }) => i.name),
    ['backend-api', 'frontend-web', 'loose'],
  );
  assert.equal((await call('GET', `/api/v1/namespaces/${appsNs}/applications/backend-app`, { token: frontendDev })).status, 200);

  // What does not exist is 404 only to those who could act on it; RBAC does not reveal existence.
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/rollouts/ghost/abort`, { token: frontendDev, body: '{}' })).status, 403);
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/rollouts/ghost/abort`, { token: adminToken, body: '{}' })).status, 404);
  assert.equal((await call('GET', `/api/v1/namespaces/${ns}/rollouts/ghost`, { token: frontendDev })).status, 404, 'readable: role:readonly');
  assert.equal((await call('POST', `/api/v1/namespaces/${appsNs}/applications/ghost/sync`, { token: frontendDev, body: '{}' })).status, 403);
  assert.equal((await call('GET', `/api/v1/namespaces/${appsNs}/applications/ghost`, { token: frontendDev })).status, 404);

  // Accounts: one's own tokens are one's own business; another account's are not.
  assert.equal((await call('POST', '/api/v1/accounts/backend-dev/tokens', { token: frontendDev, body: '{}' })).status, 403);
  const self = await call('POST', '/api/v1/accounts/frontend-dev/tokens', { token: frontendDev, body: '{"expiresIn":60}' });
  assert.equal(self.status, 200);
  tokens.push(self.body.token);
  const noApiKey = await call('POST', '/api/v1/accounts/readonly-user/tokens', { token: adminToken, body: '{}' });
  assert.equal(noApiKey.status, 409);
  assert.match(noApiKey.body.message, /readonly-user does not have the apiKey capability/);
});

test('frontend-dev may sync frontend-app and gets 403 on backend-app; creation is checked against RBAC and the AppProject', async () => {
  const frontendDev = await tokenFor('frontend-dev');
  // Past RBAC, the sync reaches the (absent) workflow: 404, not 403.
  const own = await call('POST', `/api/v1/namespaces/${appsNs}/applications/frontend-app/sync`, { token: frontendDev, body: '{"prune":true}' });
  assert.equal(own.status, 404, JSON.stringify(own.body));
  assert.match(own.body.message, /application .*frontend-app is not managed by Sluice/);
  const other = await call('POST', `/api/v1/namespaces/${appsNs}/applications/backend-app/sync`, { token: frontendDev, body: '{}' });
  assert.equal(other.status, 403);
  assert.match(other.body.message, /frontend-dev may not sync applications team-backend\/backend-app/);
  assert.equal(
    (await call('POST', `/api/v1/namespaces/${appsNs}/applications/backend-app/terminate-operation`, { token: frontendDev, body: '{}' })).status,
    403,
  );
  assert.equal((await call('POST', `/api/v1/namespaces/${appsNs}/applications/backend-app/rollback`, { token: frontendDev, body: '{"id":1}' })).status, 403);

  const app = (name: string, project: string, namespace: string) =>
    JSON.stringify({
      metadata: { name },
      spec: {
        project,
        source: { repoURL: 'https://git.example.com/devops/ops-deploy', path: 'apps/frontend', targetRevision: 'HEAD' },
        destination: { server: 'https://kubernetes.default.svc', namespace },
      },
    });
  const create = (body: string) => call('POST', `/api/v1/namespaces/${appsNs}/applications`, { token: frontendDev, body });
  const outside = await create(app('frontend-stray', 'team-frontend', 'backend-dev'));
  assert.equal(outside.status, 400);
  assert.match(
    outside.body.message,
    /refused by AppProject team-frontend: .*namespace 'backend-dev' do not match any of the allowed destinations in project 'team-frontend'/,
  );
  const foreign = await create(app('sneaky', 'team-backend', 'backend-dev'));
  assert.equal(foreign.status, 403);
  assert.match(foreign.body.message, /may not create applications team-backend\/sneaky/);
  const ok = await create(app('frontend-extra', 'team-frontend', 'frontend-extra'));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal((await stack.kube.get(Resources.application, appsNs, 'frontend-extra')).spec.project, 'team-frontend');
  assert.equal((await create(app('frontend-extra', 'team-frontend', 'frontend-extra'))).status, 409);
});

test('an edit of the RBAC ConfigMap applies without a restart', async () => {
  const frontendDev = await tokenFor('frontend-dev');
  const promoteBackend = () => call('POST', `/api/v1/namespaces/${ns}/rollouts/backend-api/promote`, { token: frontendDev, body: '{}' });
  assert.equal((await promoteBackend()).status, 403);
  const rbac = readExample('argocd-rbac-cm.users.yaml');
  await stack.kube.patch(Resources.configMap, sluiceNs, 'sluice-rbac-cm', {
    data: { 'policy.csv': `${rbac.data['policy.csv']}p, frontend-dev, applications, action/argoproj.io/Rollout/*, team-backend/*, allow\n` },
  });
  await eventually('the new policy line lets frontend-dev past RBAC', async () => (await promoteBackend()).status === 404, 10_000);
  await stack.kube.patch(Resources.configMap, sluiceNs, 'sluice-rbac-cm', { data: { 'policy.csv': rbac.data['policy.csv'] } });
  await eventually('the policy is back', async () => (await promoteBackend()).status === 403, 10_000);
});

test('an oversized body is 413 and malformed JSON is 400 with the parser message, both as JSON', async () => {
  const big = await call('POST', `/api/v1/namespaces/${ns}/rollouts/loose/promote`, {
    token: adminToken,
    body: JSON.stringify({ full: false, pad: 'x'.repeat(100 * 1024) }),
  });
  assert.equal(big.status, 413);
  assert.equal(big.body.code, 'PayloadTooLarge');

  const malformed = await call('POST', `/api/v1/namespaces/${ns}/rollouts/loose/promote`, { token: adminToken, body: '{"full": tru' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.code, 'InvalidRequest');
  assert.match(malformed.body.message, /malformed JSON body: .*JSON/);

  // A token pasted into a body comes back redacted, even through the parser's message.
  const pasted = await call('POST', `/api/v1/namespaces/${ns}/rollouts/loose/promote`, { token: adminToken, body: `${adminToken}` });
  assert.equal(pasted.status, 400);
  assert.ok(!JSON.stringify(pasted.body).includes(adminToken));

  const invalid = await call('POST', `/api/v1/namespaces/${ns}/rollouts/loose/promote`, { token: adminToken, body: '{"full":"yes"}' });
  assert.equal(invalid.status, 400);
  assert.match(invalid.body.message, /full/);
});

test('an expired token and a revoked token are 401', async () => {
  const shortLived = await tokenFor('backend-dev', 1);
  assert.equal((await call('GET', '/api/v1/rollouts', { token: shortLived })).status, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await call('GET', '/api/v1/rollouts', { token: shortLived });
  assert.equal(expired.status, 401);
  assert.match(expired.body.message, /expired at/);

  // Revoked through the CLI, which finds its server and token in SLUICE_HOME/cli.json.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-'));
  const env = { ...process.env, SLUICE_HOME: home, SLUICE_TOKEN: '', SLUICE_SERVER: '' };
  const cli = (...args: string[]) => runCommand(process.execPath, [cliPath, ...args], env);
  const login = await cli('login', '--server', url, '--token', adminToken);
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /as admin/);
  assert.equal(fs.statSync(path.join(home, 'cli.json')).mode & 0o777, 0o600);

  const generated = await cli('account', 'generate-token', '--account', 'backend-dev', '--expires-in', '1h');
  assert.equal(generated.code, 0, generated.stderr);
  const revocable = generated.stdout.trim();
  tokens.push(revocable);
  assert.equal((await call('GET', '/api/v1/rollouts', { token: revocable })).status, 200);
  const id = revocable.split('_')[1]!;
  const revoked = await cli('account', 'revoke-token', id);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await call('GET', '/api/v1/rollouts', { token: revocable });
  assert.equal(after.status, 401);
  assert.match(after.body.message, /unknown or was revoked/);

  // Exit codes scripts rely on: 4 unauthorised, 2 not found, 3 unreachable.
  const unauthorised = await runCommand(process.execPath, [cliPath, '--server', url, '--token', revocable, 'rollouts', 'list'], env);
  assert.equal(unauthorised.code, 4, unauthorised.stderr);
  assert.ok(!unauthorised.stderr.includes(revocable));
  assert.equal((await cli('rollouts', 'get', 'nope', '-n', ns)).code, 2);
  assert.equal((await runCommand(process.execPath, [cliPath, '--server', 'http://127.0.0.1:1', 'rollouts', 'list'], env)).code, 3);
  const loggedOut = await cli('logout');
  assert.equal(loggedOut.code, 0);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(home, 'cli.json'), 'utf8')), { server: url });
  assert.equal((await cli('rollouts', 'list')).code, 4, 'no token any more');
  fs.rmSync(home, { recursive: true, force: true });
});

test('a new bootstrap token revokes the previous one; tokens issued by hand stay valid', async () => {
  const kept = await tokenFor('admin');
  const previous = (await issueBootstrapToken(stack.kube, sluiceNs)).token;
  tokens.push(previous);
  assert.equal((await call('GET', '/api/v1/session', { token: previous })).status, 200);
  const next = (await issueBootstrapToken(stack.kube, sluiceNs)).token;
  tokens.push(next);
  // The revocation is written by another AccessControl (as `sluice up` in another process
  // would); the API's copy of the tokens Secret learns it through its watch, so it holds
  // once that event arrives, not at the instant of the write.
  await eventually('the previous bootstrap token is refused', async () => (await call('GET', '/api/v1/session', { token: previous })).status === 401, 5_000);
  assert.equal((await call('GET', '/api/v1/session', { token: next })).status, 200);
  assert.equal((await call('GET', '/api/v1/session', { token: kept })).status, 200);
  adminToken = kept;
});

test('no token appears in any log line or response body', async () => {
  assert.ok(
    logLines.some((l) => l.includes('"status":401')),
    'the API logged the refused requests',
  );
  assert.ok(tokens.length >= 5);
  for (const t of tokens) {
    const secret = t.slice('sluice_0123456789abcdef_'.length); // the secret may itself hold '_'
    assert.equal(secret.length, 43);
    for (const line of logLines) assert.ok(!line.includes(secret), `a log line holds a token: ${line}`);
    for (const body of bodies.filter((b) => !b.includes('"token":"sluice_'))) assert.ok(!body.includes(secret), 'an error body holds a token');
  }
  // The bodies that carry a token are the issuing responses, each holding only the token it issued.
  const issuing = bodies.filter((b) => b.includes('"token":"sluice_'));
  for (const b of issuing) assert.equal(tokens.filter((t) => b.includes(t)).length, 1);
});
