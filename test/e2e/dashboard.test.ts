// The web dashboard in a real browser (Debian's Chromium, driven by playwright-core),
// against Sluice on the shared stack: log in with a token; the example Applications and
// canary-basic are listed, live; Promote on canary-basic's page moves the step on the
// page and in the cluster; an OutOfSync Application shows its diff and, after Sync,
// turns Synced and Healthy on the page; an ApplicationSet created in the cluster appears
// on the open list; the examples' read-only account sees no active button, and the API
// refuses the requests the page would have sent (403).
// Screenshots of each page land in test-output/dashboard.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { AccessControl } from '../../api/auth/access-control';
import { configFromEnv } from '../../worker/config';
import { startSluice, type RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { launchBrowser, logIn, testOutputDir, type Browser } from '../support/browser';
import { examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let sluiceNs: string;
let repo: GitFixture;
let sluice: RunningSluice;
let browser: Browser;
let adminToken: string;
let readonlyToken: string;
const out = testOutputDir('dashboard');
const shot = (name: string) => browser.page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });

const readExample = (dir: string, file: string) => YAML.parse(fs.readFileSync(path.join(examplesDir, dir, file), 'utf8')) as KubeObject & { data: any };

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-dash');
  sluiceNs = await createNamespace(stack.kube, 'e2e-dash-sluice');
  // The examples' accounts and per-user RBAC: readonly-user may get applications, nothing more.
  for (const [name, file] of [
    ['sluice-cm', 'argocd-cm-accounts.yaml'],
    ['sluice-rbac-cm', 'argocd-rbac-cm.users.yaml'],
  ]) {
    await stack.kube.create(Resources.configMap, sluiceNs, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
      data: readExample('projects', file).data,
    });
  }
  for (const file of ['team-frontend.yaml', 'team-backend.yaml']) {
    const project = readExample('projects', file);
    await stack.kube.create(Resources.appProject, ns, {
      ...project,
      metadata: { name: project.metadata.name, namespace: ns },
      spec: { ...project.spec, sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], sourceNamespaces: [ns] },
    });
  }
  repo = examplesRepo();
  // The examples' two Applications, from this machine's copy of the repository and into this
  // test's namespace; backend-app without automated sync, so it stays OutOfSync until synced here.
  for (const file of ['frontend-app.yaml', 'backend-app.yaml']) {
    const a = readExample('projects', file);
    const manual = a.metadata.name === 'backend-app';
    await stack.kube.create(Resources.application, ns, {
      ...a,
      metadata: { name: a.metadata.name, namespace: ns },
      spec: {
        ...a.spec,
        source: { ...a.spec.source, repoURL: repo.url },
        destination: { ...a.spec.destination, namespace: ns },
        syncPolicy: manual ? { syncOptions: a.spec.syncPolicy?.syncOptions } : a.spec.syncPolicy,
      },
    });
  }
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);

  process.env.SLUICE_HOME ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-home-'));
  sluice = await startSluice(
    {
      ...configFromEnv({}),
      temporalAddress: stack.temporalAddress,
      taskQueue: `sluice-${ns}`,
      watchNamespace: ns,
      apiPort: 0,
      sluiceNamespace: sluiceNs,
      temporalUiUrl: 'http://127.0.0.1:8233',
      applicationTimings: { reconcileMs: 60_000, jitterMs: 0, hookTimeoutMs: 30_000, waveTimeoutMs: 30_000 },
    },
    stack.kube,
    () => undefined,
  );
  const access = new AccessControl(stack.kube, sluiceNs);
  adminToken = (await access.issueToken('admin', 3600, 'dashboard test')).token;
  readonlyToken = (await access.issueToken('readonly-user', 3600, 'dashboard test')).token;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  if (sluiceNs) await deleteNamespace(stack.kube, sluiceNs);
  repo?.remove();
  await stack?.stop();
});

test('the page and its bundle come from the API, compressed, with a strict CSP; the data needs a token', async () => {
  const page = await fetch(`${sluice.apiUrl}/`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  const js = await fetch(`${sluice.apiUrl}/ui/app.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(js.headers.get('content-encoding'), 'gzip');
  assert.ok(Number(js.headers.get('content-length')) < 100_000, `the bundle is small (${js.headers.get('content-length')} bytes compressed)`);
  assert.equal((await fetch(`${sluice.apiUrl}/api/v1/stream?watch=applications`)).status, 401);
  // The stream is gzipped and flushed per event: the snapshot arrives although the response never ends.
  const abort = new AbortController();
  const stream = await fetch(`${sluice.apiUrl}/api/v1/stream?watch=applications,applicationsets`, {
    headers: { authorization: `Bearer ${adminToken}`, 'accept-encoding': 'gzip' },
    signal: abort.signal,
  });
  assert.equal(stream.headers.get('content-encoding'), 'gzip');
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while ((text.match(/\n\n/g) ?? []).length < 2) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  abort.abort();
  assert.match(text, /^event: applications\ndata: \{"items":\[.*\]\}\n\nevent: applicationsets\ndata: \{"items":\[/);
});

test('log in; the example Applications and canary-basic are listed, live', async () => {
  const { page } = browser;
  await page.goto(`${sluice.apiUrl}/`);
  await page.waitForSelector('form.login');
  await shot('login');
  await logIn(page, sluice.apiUrl, adminToken);
  assert.equal(await page.textContent('[data-account]'), 'admin');
  await page.waitForSelector('tr[data-app=frontend-app]');
  await page.waitForSelector('tr[data-app=backend-app]');
  // frontend-app syncs by itself; the page follows without a reload.
  await page.waitForSelector('tr[data-app=frontend-app] [data-status=Synced]', { timeout: 120_000 });
  await page.waitForSelector('tr[data-app=frontend-app] [data-status=Healthy]', { timeout: 120_000 });
  await page.waitForSelector('tr[data-app=backend-app] [data-status=OutOfSync]', { timeout: 60_000 });
  // Filters live in the URL: a reload keeps them.
  await page.selectOption('select[name=sync]', 'OutOfSync');
  assert.match(page.url(), /sync=OutOfSync/);
  await page.reload();
  await page.waitForSelector('tr[data-app=backend-app]');
  assert.equal(await page.locator('tr[data-app=frontend-app]').count(), 0);
  assert.equal(await page.inputValue('select[name=sync]'), 'OutOfSync');
  await shot('applications');

  await page.click('a[href="#/rollouts"]');
  await page.waitForSelector('tr[data-rollout=canary-basic][data-phase=Healthy]', { timeout: 120_000 });
  await shot('rollouts');
});

test('canary-basic after an image change: Promote on its page moves the step on the page and in the cluster', async () => {
  const { page } = browser;
  await eventually('canary-basic is Healthy', async () => (await stack.kube.get(Resources.rollout, ns, 'canary-basic')).status?.phase === 'Healthy', 120_000);
  await kubectl(stack, [
    'patch',
    'rollout',
    'canary-basic',
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"argoproj/rollouts-demo:yellow"}]',
  ]);
  await page.goto(`${sluice.apiUrl}/#/rollouts/${ns}/canary-basic`);
  // Paused at the indefinite pause (step index 1), shown as the current step.
  await page.waitForSelector('[data-page=rollout][data-phase=Paused][data-step="1"]', { timeout: 120_000 });
  await page.waitForSelector('li[data-step-index="1"][aria-current=step]');
  await page.waitForSelector('.temporal');
  assert.match((await page.getAttribute('.temporal', 'href')) ?? '', /WorkflowId%3D%22rollout%2F/);
  await page.waitForSelector('button[data-action=promote]:not([disabled])');
  await shot('rollout-paused');
  await page.click('button[data-action=promote]');
  // The page moves on by itself (the stream), to setWeight 66 or the timed pause after it.
  await page.waitForSelector('li[aria-current=step][data-step-index="2"], li[aria-current=step][data-step-index="3"]', { timeout: 30_000 });
  const ro = await stack.kube.get(Resources.rollout, ns, 'canary-basic');
  assert.ok(ro.status.currentStepIndex >= 2, `the cluster moved on too (currentStepIndex ${ro.status.currentStepIndex})`);
  await shot('rollout-promoted');
  await page.waitForSelector('[data-page=rollout][data-phase=Healthy]', { timeout: 120_000 });
});

test('an OutOfSync Application: its diff on the page, then Sync turns it Synced and Healthy', async () => {
  const { page } = browser;
  await page.goto(`${sluice.apiUrl}/#/applications/${ns}/backend-app`);
  await page.waitForSelector('[data-page=application][data-sync=OutOfSync]', { timeout: 60_000 });
  await page.waitForSelector('pre.diff');
  const diff = await page.textContent('pre.diff');
  assert.match(diff ?? '', /Deployment|backend/, 'the diff names the missing resource');
  await page.waitForSelector('button[data-action=sync]:not([disabled])');
  await shot('application-outofsync');
  await page.click('button[data-action=sync]');
  await page.waitForSelector('[data-page=application][data-sync=Synced][data-health=Healthy]', { timeout: 120_000 });
  // The resource tree shows the Deployment with its ReplicaSet and Pods, each Healthy.
  await page.waitForSelector('[data-node^="Deployment/"][data-health=Healthy]', { timeout: 30_000 });
  await page.waitForSelector('[data-node^="Pod/"][data-health=Healthy]', { timeout: 60_000 });
  const status = (await stack.kube.get(Resources.application, ns, 'backend-app')).status;
  assert.equal(status.sync.status, 'Synced');
  assert.equal(status.health.status, 'Healthy');
  await shot('application-synced');
});

test('the ApplicationSets list is live: a set created in the cluster appears on the open page, its status follows, and it leaves when deleted', async () => {
  const { page } = browser;
  await page.goto(`${sluice.apiUrl}/#/applicationsets`);
  await page.waitForSelector('[data-page=applicationsets][data-loaded=true]');
  await page.waitForSelector('[data-page=applicationsets] .live.on');
  // A mark on the page's window: gone if anything reloads the page.
  await page.evaluate(() => ((globalThis as any).sluiceNoReload = true));
  assert.equal(await page.locator('tr[data-appset=dash-set]').count(), 0);
  await stack.kube.create(Resources.applicationSet, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'dash-set', namespace: ns },
    spec: {
      // Nothing to generate: the set's own status is what this test follows.
      generators: [{ list: { elements: [] } }],
      template: {
        metadata: { name: 'dash-{{env}}' },
        spec: {
          project: 'team-frontend',
          source: { repoURL: repo.url, path: 'apps/frontend', targetRevision: 'HEAD' },
          destination: { server: 'https://kubernetes.default.svc', namespace: ns },
        },
      },
    },
  });
  await page.waitForSelector('tr[data-appset=dash-set]', { timeout: 30_000 });
  // Sluice's ApplicationSet controller reports on it; the row follows.
  await page.waitForSelector('tr[data-appset=dash-set]:has-text("ParametersGenerated")', { timeout: 90_000 });
  await shot('applicationsets');
  await stack.kube.delete(Resources.applicationSet, ns, 'dash-set');
  await page.waitForSelector('tr[data-appset=dash-set]', { state: 'detached', timeout: 30_000 });
  assert.equal(await page.evaluate(() => (globalThis as any).sluiceNoReload), true, 'the page was not reloaded');
});

test('the read-only account sees no active button on an Application or a Rollout, and the API refuses the requests anyway (403)', async () => {
  const { page } = browser;
  await page.click('nav a.logout');
  await page.waitForSelector('form.login');
  await logIn(page, sluice.apiUrl, readonlyToken);
  // Every button in the document that is not disabled, and every form control of an action that is not.
  const active = () =>
    page.$$eval('button:not([disabled]), .actions :is(input, select, textarea):not([disabled]), .tree input:not([disabled])', (els) =>
      els.map((e) => e.getAttribute('data-action') ?? e.getAttribute('name') ?? e.outerHTML.slice(0, 80)),
    );

  await page.goto(`${sluice.apiUrl}/#/applications/${ns}/backend-app`);
  // Once the API has said what the account may do, with the tree and the history (a Rollback button per entry) shown.
  await page.waitForSelector('[data-page=application][data-sync][data-permissions=loaded]');
  await page.waitForSelector('[data-node^="Deployment/"] input[type=checkbox]', { timeout: 30_000 });
  await page.waitForSelector('button[data-action^=rollback-]');
  const appButtons = await page.$$eval('button[data-action]', (bs) => bs.map((b) => b.getAttribute('data-action')));
  for (const a of ['refresh', 'hard-refresh', 'sync', 'terminate', 'delete']) assert.ok(appButtons.includes(a), `${a} is shown (disabled)`);
  assert.deepEqual(await active(), []);
  assert.match((await page.getAttribute('button[data-action=refresh]', 'title')) ?? '', /read-only/);
  await shot('application-readonly');

  await page.goto(`${sluice.apiUrl}/#/rollouts/${ns}/canary-basic`);
  await page.waitForSelector('[data-page=rollout][data-phase][data-permissions=loaded]');
  const rolloutButtons = await page.$$eval('button[data-action]', (bs) => bs.map((b) => b.getAttribute('data-action')));
  for (const a of ['promote', 'promote-full', 'abort', 'retry', 'restart', 'undo', 'set-image'])
    assert.ok(rolloutButtons.includes(a), `${a} is shown (disabled)`);
  assert.deepEqual(await active(), []);
  await shot('rollout-readonly');

  // Forged from the page itself with the session's token: refused.
  const forged = await page.evaluate(
    async ([namespace]) => {
      const token = (globalThis as any).sessionStorage.getItem('sluice.token');
      const send = (method: string, p: string, body = '{}') =>
        fetch(p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : body });
      const app = `/api/v1/namespaces/${namespace}/applications/backend-app`;
      const ro = `/api/v1/namespaces/${namespace}/rollouts/canary-basic`;
      const statuses = await Promise.all([
        send('POST', `${app}/sync`),
        send('POST', `${app}/rollback`, '{"id":1}'),
        send('DELETE', app),
        send('POST', `${ro}/promote`),
        send('POST', `${ro}/abort`),
        send('POST', `${ro}/set-image`, '{"container":"rollouts-demo","image":"argoproj/rollouts-demo:red"}'),
      ]);
      return statuses.map((r) => r.status);
    },
    [ns],
  );
  assert.deepEqual(forged, [403, 403, 403, 403, 403, 403]);
  assert.ok(await stack.kube.find(Resources.application, ns, 'backend-app'), 'backend-app is still there');
  assert.notEqual((await stack.kube.get(Resources.rollout, ns, 'canary-basic')).status?.abort, true, 'canary-basic was not aborted');
});
