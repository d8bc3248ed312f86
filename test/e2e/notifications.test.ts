// Argo CD notifications end to end, on the shared stack with two Sluice processes: the
// examples' ConfigMap and Secret unchanged but for the Slack URL (pointed at a local
// receiver that answers as Slack's incoming webhooks do), the subscribed frontend-app; a
// webhook that fails three times; one process SIGKILLed while its send is held open.
// A receiver counts a message when it has answered it: a request whose sender died before
// the answer is one the sender cannot know arrived, and the retry is the delivery.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { applicationWorkflowId, rolloutNotificationsWorkflowId } from '../../workflows/definitions';
import { exampleApplication, examplesRepo, type GitFixture } from '../support/git-fixture';
import { waitForApplication } from '../support/gitops';
import { examplesDir } from '../support/paths';
import { createNamespace, eventually, kubectl, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

interface Received {
  path: string;
  body: string;
  headers: http.IncomingHttpHeaders;
  remotePort: number;
}

/** A local HTTP receiver; `answer` decides each request's status, or holds it (undefined) until `release`. */
class Receiver {
  readonly received: Received[] = [];
  readonly requests: Received[] = [];
  private readonly held: { req: Received; res: http.ServerResponse }[] = [];
  private readonly server: http.Server;
  port = 0;
  constructor(private answer: (r: Received, n: number) => number | undefined) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '', body, headers: req.headers, remotePort: req.socket.remotePort ?? 0 };
        this.requests.push(r);
        const status = this.answer(r, this.requests.length);
        if (status === undefined) this.held.push({ req: r, res });
        else this.reply(r, res, status);
      });
    });
  }
  private reply(r: Received, res: http.ServerResponse, status: number): void {
    // Counted only once the answer is out: a sender that died first never saw it delivered.
    res.on('finish', () => status < 300 && this.received.push(r));
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'unavailable');
  }
  heldCount(): number {
    return this.held.length;
  }
  heldRequests(): Received[] {
    return this.held.map((h) => h.req);
  }
  release(status = 200): void {
    for (const { req, res } of this.held.splice(0)) if (!res.socket?.destroyed) this.reply(req, res, status);
  }
  setAnswer(answer: (r: Received, n: number) => number | undefined): void {
    this.answer = answer;
  }
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    this.release(503);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let stack: TestStack;
let ns: string;
let repo: GitFixture;
const processes: SluiceProcess[] = [];
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-notifications-'));
const logFile = path.join(logDir, 'sluice.log');
const slack = new Receiver(() => 200);
const hook = new Receiver(() => 200);

const exampleYaml = (file: string) => parse(fs.readFileSync(path.join(examplesDir, 'notifications', file), 'utf8'));
const slackTexts = (app: string) => slack.received.map((r) => JSON.parse(r.body).text as string).filter((t) => t.includes(` ${app} `));

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-notify');
  await slack.listen();
  await hook.listen();
  await stack.kube.create(Resources.appProject, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'team-frontend', namespace: ns },
    spec: {
      sourceRepos: ['*'],
      destinations: [{ server: '*', namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      sourceNamespaces: [ns],
    },
  });
  // The examples' ConfigMap unchanged; the Secret's incoming-webhook URL pointed at the local receiver.
  const cm = exampleYaml('argocd-notifications-cm.yaml');
  await stack.kube.create(Resources.configMap, ns, { ...cm, metadata: { ...cm.metadata, namespace: ns } });
  const secret = exampleYaml('argocd-notifications-secret.yaml');
  await stack.kube.create(Resources.secret, ns, {
    ...secret,
    metadata: { ...secret.metadata, namespace: ns },
    stringData: { 'slack-token': `http://127.0.0.1:${slack.port}/services/T00/B00/XXX` },
  });
  repo = examplesRepo();
  process.env.SLUICE_HOME = path.join(logDir, 'home');
  process.env.SLUICE_APP_RECONCILE_SECONDS = '60';
  process.env.SLUICE_APP_RECONCILE_JITTER_SECONDS = '0';
  processes.push(await spawnSluice(stack, ns, logFile), await spawnSluice(stack, ns, logFile));
});

after(async () => {
  for (const p of processes) await p.kill('SIGTERM').catch(() => undefined);
  await slack.close();
  await hook.close();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
  fs.rmSync(logDir, { recursive: true, force: true });
});

const frontendApp = () => {
  const app = exampleApplication('notifications/frontend-app-subscribed.yaml', repo, ns);
  app.spec.source.path = 'apps/frontend';
  return app;
};

test('frontend-app: a successful sync sends one "deployed" with its fields, a failing sync one "sync failed"', async () => {
  await stack.kube.create(Resources.application, ns, frontendApp());
  const synced = await waitForApplication(
    stack,
    ns,
    'frontend-app',
    'Synced and Healthy',
    (s) => s.operationState?.phase === 'Succeeded' && s.health?.status === 'Healthy',
    90_000,
  );
  const deployed = await eventually(
    'the deployed message',
    async () => slackTexts('frontend-app').find((t) => t.includes('successfully deployed')),
    30_000,
    200,
  );
  assert.equal(
    deployed,
    [
      '✅ Application frontend-app has been successfully deployed!',
      '- Sync Status: Synced',
      '- Health Status: Healthy',
      `- Repository: ${repo.url}`,
      `- Revision: ${synced.sync.revision}`,
      '',
    ].join('\n'),
  );

  // A manifest the API server refuses: the next automated sync fails.
  const bad = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\nspec:\n  nothing: here\n';
  repo.commit('a ConfigMap with a field its kind does not have', { 'apps/frontend/broken.yaml': bad });
  await stack.kube.patch(Resources.application, ns, 'frontend-app', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
  const failed = await waitForApplication(stack, ns, 'frontend-app', 'sync Failed', (s) => s.operationState?.phase === 'Failed', 90_000);
  const failure = await eventually('the sync failed message', async () => slackTexts('frontend-app').find((t) => t.includes('sync failed')), 30_000, 200);
  assert.equal(failure, `❌ Application frontend-app sync failed!\n- Sync Status: OutOfSync\n- Error: ${failed.operationState.message}\n`);

  await new Promise((r) => setTimeout(r, 5_000)); // anything late or duplicated would arrive now
  const texts = slackTexts('frontend-app');
  console.log(
    'slack received for frontend-app:',
    texts.map((t) => t.split('\n')[0]),
  );
  assert.equal(texts.filter((t) => t.includes('successfully deployed')).length, 1);
  assert.equal(texts.filter((t) => t.includes('sync failed')).length, 1);
  // The examples' default subscription also sends on-out-of-sync to every Application:
  // once per time it became OutOfSync (created, then the broken commit), never more.
  const others = texts.filter((t) => !t.includes('successfully deployed') && !t.includes('sync failed'));
  assert.ok(
    others.every((t) => t.startsWith('⚠️ Application frontend-app is out of sync!')),
    `unexpected messages: ${JSON.stringify(others)}`,
  );
  assert.ok(others.length <= 2, `${others.length} out-of-sync messages`);
  const metrics = await (await fetch(`${processes[0].apiUrl}/metrics`)).text();
  const metrics2 = await (await fetch(`${processes[1].apiUrl}/metrics`)).text();
  const delivered = (m: string, trigger: string) =>
    Number(
      new RegExp(`sluice_notification_sends_total\\{namespace="${ns}",service="slack",trigger="${trigger}",result="delivered"\\} (\\d+)`).exec(m)?.[1] ?? 0,
    );
  assert.equal(
    delivered(metrics, 'on-deployed') + delivered(metrics2, 'on-deployed'),
    1,
    'the /metrics counters of both processes add up to one delivered on-deployed',
  );
});

test('a webhook failing its first three requests: delivered once, on the fourth, with one idempotency key', async () => {
  hook.setAnswer((_r, n) => (n <= 3 ? 503 : 200));
  const cm = await stack.kube.get(Resources.configMap, ns, 'argocd-notifications-cm');
  await stack.kube.patch(Resources.configMap, ns, 'argocd-notifications-cm', {
    data: {
      ...(cm as KubeObject & { data: Record<string, string> }).data,
      'service.webhook.flaky': `url: http://127.0.0.1:${hook.port}\nheaders:\n- name: Content-Type\n  value: application/json\n`,
      'template.hook-synced':
        'webhook:\n  flaky:\n    method: POST\n    path: /synced\n    body: \'{"app": "{{.app.metadata.name}}", "revision": "{{.app.status.sync.revision}}"}\'\n',
      'trigger.on-hook-synced': "- when: app.status.operationState.phase in ['Succeeded']\n  oncePer: app.status.sync.revision\n  send: [hook-synced]\n",
    },
  });
  await new Promise((r) => setTimeout(r, 6_000)); // the activities re-read the ConfigMap after 5 s
  const app = exampleApplication('projects/frontend-app.yaml', repo, ns, (a) => {
    a.metadata.name = 'hooked-app';
    a.metadata.annotations = { 'notifications.argoproj.io/subscribe.on-hook-synced.flaky': '' };
    a.spec.source.path = 'apps/backend';
  });
  await stack.kube.create(Resources.application, ns, app);
  const synced = await waitForApplication(stack, ns, 'hooked-app', 'sync Succeeded', (s) => s.operationState?.phase === 'Succeeded', 90_000);
  await eventually('the webhook delivered', async () => hook.received.length > 0, 60_000, 200);
  await new Promise((r) => setTimeout(r, 5_000));
  assert.equal(hook.requests.length, 4, 'three failures and one success');
  assert.equal(hook.received.length, 1);
  assert.equal(hook.received[0].path, '/synced');
  assert.deepEqual(JSON.parse(hook.received[0].body), { app: 'hooked-app', revision: synced.sync.revision });
  assert.equal(new Set(hook.requests.map((r) => r.headers['idempotency-key'])).size, 1, 'every attempt carries the same key');
});

/** One line per event of a workflow's history, for a failure's message. */
async function historyOutline(workflowId: string): Promise<string> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .map((e) => {
        const at = e.eventTime?.seconds ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString() : '';
        const kind = Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? String(e.eventType);
        const attrs = (e as Record<string, unknown>)[kind] as Record<string, unknown> | undefined;
        const detail = JSON.stringify(attrs, (k, v: unknown) =>
          k === 'payloads' || k === 'header' || k === 'input' || k === 'result' || k === 'details' ? undefined : v,
        );
        return `${e.eventId} ${at} ${kind} ${detail?.slice(0, 300) ?? ''}`;
      })
      .join('\n');
  } finally {
    await connection.close();
  }
}

/** Whether a read of the Rollout's notifications workflow returned it completed (its recorded activity results). */
async function notificationsSawCompleted(name: string): Promise<boolean> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const history = await new Client({ connection }).workflow.getHandle(rolloutNotificationsWorkflowId({ namespace: ns, name })).fetchHistory();
    return (history.events ?? []).some((e) => {
      const data = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
      if (!data) return false;
      const result = JSON.parse(Buffer.from(data).toString('utf8')) as { observation?: { completed?: boolean } } | null;
      return result?.observation?.completed === true;
    });
  } finally {
    await connection.close();
  }
}

test('a rollout aborted by a failed analysis sends on-rollout-aborted and on-analysis-run-failed once each', async () => {
  // Argo Rollouts' own ConfigMap and Secret: the built-in triggers and templates, the Slack service.
  await stack.kube.create(Resources.configMap, ns, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argo-rollouts-notification-configmap', namespace: ns },
    data: { 'service.slack': 'token: $slack-token' },
  });
  await stack.kube.create(Resources.secret, ns, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'argo-rollouts-notification-secret', namespace: ns },
    stringData: { 'slack-token': `http://127.0.0.1:${slack.port}/services/T00/B00/ROLLOUTS` },
  });
  const health = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"statusCode": "500"}'));
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  try {
    await stack.kube.create(Resources.analysisTemplate, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: 'health', namespace: ns },
      spec: {
        metrics: [
          {
            name: 'health',
            count: 1,
            successCondition: 'result == "200"',
            provider: { web: { url: `http://127.0.0.1:${(health.address() as AddressInfo).port}/`, jsonPath: '{$.statusCode}' } },
          },
        ],
      },
    });
    const subscribed = ['on-rollout-aborted', 'on-analysis-run-failed'];
    const subscribe = (triggers: string[]) => Object.fromEntries(triggers.map((t) => [`notifications.argoproj.io/subscribe.${t}.slack`, 'deploys']));
    await stack.kube.create(Resources.rollout, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: {
        name: 'notify-ro',
        namespace: ns,
        annotations: subscribe(subscribed),
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'notify-ro' } },
        template: { metadata: { labels: { app: 'notify-ro' } }, spec: { containers: [{ name: 'web', image: 'demo:blue' }] } },
        strategy: { canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: 'health' }] } }, { pause: {} }] } },
      },
    });
    const rolloutTexts = () =>
      slack.received
        .filter((r) => r.path.endsWith('/ROLLOUTS'))
        .map((r) => JSON.parse(r.body) as { text: string; channel?: string })
        .filter((m) => m.text.includes('notify-ro'));
    const get = () => stack.kube.get(Resources.rollout, ns, 'notify-ro');
    await eventually('the rollout is Healthy', async () => (await get()).status?.phase === 'Healthy', 90_000, 250);
    // Subscribed from now on: what happens next is reported, not the first revision's past.
    // The notifications workflow must have seen that past first: events are what changed
    // between two of its reads, so a read delayed past the new subscription would report
    // the first revision's completion under it.
    await eventually('the notifications workflow has read the completed first revision', () => notificationsSawCompleted('notify-ro'), 60_000, 250);
    await stack.kube.patch(Resources.rollout, ns, 'notify-ro', { metadata: { annotations: subscribe(['on-rollout-updated', 'on-rollout-completed']) } });
    await new Promise((r) => setTimeout(r, 2_000));
    await kubectl(stack, [
      'patch',
      'rollout',
      'notify-ro',
      '-n',
      ns,
      '--type',
      'json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'demo:red' }]),
    ]);
    await eventually('aborted by the analysis', async () => (await get()).status?.abort === true, 90_000, 250);
    await eventually(
      'both notifications',
      async () => rolloutTexts().some((m) => m.text.includes('aborted')) && rolloutTexts().some((m) => m.text.includes('analysis run failed')),
      30_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 5_000));
    const texts = rolloutTexts();
    console.log(
      'slack received for notify-ro:',
      texts.map((m) => `${m.channel}: ${m.text}`),
    );
    assert.equal(texts.filter((m) => m.text === 'Rollout notify-ro has been aborted.').length, 1);
    assert.equal(texts.filter((m) => m.text === "Rollout notify-ro's analysis run failed.").length, 1);
    assert.ok(texts.every((m) => m.channel === 'deploys'));
    assert.equal(texts.filter((m) => m.text === 'Rollout notify-ro has been updated.').length, 1, 'the update to red');
    assert.equal(texts.length, 3, `nothing else (red never completed): ${JSON.stringify(texts.map((m) => m.text))}`);
  } finally {
    await new Promise((resolve) => health.close(resolve));
  }
});

/** The pid of the process whose TCP connection to the receiver uses `remotePort` (ss sees both ends on loopback). */
function pidOfClient(remotePort: number): number | undefined {
  const out = execFileSync('ss', ['-tnpH', `sport = :${remotePort}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

test('two processes, the one sending SIGKILLed while the receiver holds its request: each message arrives once', async () => {
  // Hold every request until the sender is killed; answer the others at once.
  let hold = true;
  slack.setAnswer(() => (hold ? undefined : 200));
  const app = exampleApplication('projects/frontend-app.yaml', repo, ns, (a) => {
    a.metadata.name = 'killed-app';
    a.metadata.annotations = { 'notifications.argoproj.io/subscribe.on-deployed.slack': '' };
    a.spec.source.path = 'apps/database';
  });
  await stack.kube.create(Resources.application, ns, app);
  const held = await eventually('a send held by the receiver', async () => slack.heldCount() > 0 && slack.heldRequests()[0], 90_000, 100);
  const pid = pidOfClient(held.remotePort);
  const victim = processes.find((p) => p.child.pid === pid);
  assert.ok(victim, `the held request comes from a Sluice process (pid ${pid}; ours: ${processes.map((p) => p.child.pid).join(', ')})`);
  await victim.kill('SIGKILL');
  const killedAt = Date.now();
  hold = false;
  await new Promise((r) => setTimeout(r, 500)); // the dead sender's sockets close
  slack.release(); // what the survivor sent meanwhile
  await waitForApplication(
    stack,
    ns,
    'killed-app',
    'Synced and Healthy',
    (s) => s.operationState?.phase === 'Succeeded' && s.health?.status === 'Healthy',
    120_000,
  ).catch(async (err: unknown) => {
    console.log(
      `killed pid ${pid} at ${new Date(killedAt).toISOString()}; the app's history:\n${await historyOutline(applicationWorkflowId({ namespace: ns, name: 'killed-app' }))}`,
    );
    console.log(
      fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('killed-app'))
        .slice(-40)
        .join('\n'),
    );
    throw err;
  });
  await eventually('the deployed message', async () => slackTexts('killed-app').some((t) => t.includes('successfully deployed')), 90_000, 200);
  console.log(`killed-app delivered ${Date.now() - killedAt} ms after the kill`);
  await new Promise((r) => setTimeout(r, 5_000));
  const texts = slackTexts('killed-app');
  console.log(
    'slack received for killed-app:',
    texts.map((t) => t.split('\n')[0]),
  );
  assert.ok(texts.length >= 1);
  assert.equal(new Set(texts).size, texts.length, `a message arrived twice: ${JSON.stringify(texts)}`);
  assert.equal(texts.filter((t) => t.includes('successfully deployed')).length, 1);
  // And nothing of the earlier tests was sent again by the surviving process.
  assert.equal(slackTexts('frontend-app').filter((t) => t.includes('successfully deployed')).length, 1);
  assert.equal(hook.received.length, 1);
});
