// Benchmark (prints figures; not a pass/fail test): N Applications (default 1,000), one
// ConfigMap each, created at once, twice: without subscriptions, then each subscribed to
// on-deployed with a webhook to a local receiver. Prints the delivery latency (from when
// this process's watch saw the Application Synced and Healthy to the receipt), p50/p99,
// duplicates and lost sends (both must be 0), and how much longer the subscribed run took
// to sync than the plain one (target: under 10%). A message not in two minutes after the
// last sync counts as lost.
//   node dist/test/bench/notifications.js            (SLUICE_BENCH_APPS=200 for fewer)
// SLUICE_BENCH_PROFILE=1 also prints, per run, the CPU seconds of this process (the Sluice
// worker and watchers) and of the stack's processes, and what the runs' workflows did
// (workflow tasks, activities, local activities, signals), read from their histories.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Resources } from '../../k8s/kube-client';
import { inform } from '../../k8s/informer';
import { configFromEnv } from '../../worker/config';
import { startSluice, type RunningSluice } from '../../cmd/process';
import { createNamespace, testStack, type TestStack } from '../support/stack';
import { inBatches, percentile } from './bench-support';

const N = Number(process.env.SLUICE_BENCH_APPS ?? 1000);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function repository(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-notify-repo-'));
  for (let i = 0; i < n; i++) {
    fs.mkdirSync(path.join(dir, `app-${i}`));
    fs.writeFileSync(path.join(dir, `app-${i}`, 'configmap.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  index: "${i}"\n`);
  }
  const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
  for (const args of [
    ['init', '--quiet'],
    ['add', '-A'],
    ['commit', '--quiet', '-m', 'bench'],
  ])
    execFileSync('git', args, { cwd: dir, env });
  return dir;
}

const PROFILE = process.env.SLUICE_BENCH_PROFILE === '1';

/** CPU seconds (user + system) of this process's descendants, by command name, from /proc. */
function childCpu(): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const procs: { pid: number; ppid: number; comm: string; cpu: number }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(entry), ppid: Number(fields[1]), comm, cpu: (Number(fields[11]) + Number(fields[12])) / tick });
    } catch {
      // gone meanwhile
    }
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (mine.has(p.pid) || !mine.has(p.ppid)) continue;
      mine.add(p.pid);
      grew = true;
    }
  }
  const byName = new Map<string, number>();
  for (const p of procs) if (p.pid !== process.pid && mine.has(p.pid)) byName.set(p.comm, (byName.get(p.comm) ?? 0) + p.cpu);
  return byName;
}

function cpuSnapshot(): Map<string, number> {
  const own = process.cpuUsage();
  return new Map([['sluice (this process)', (own.user + own.system) / 1e6], ...childCpu()]);
}

/** What the run's workflows did, counted from their histories. */
async function workflowCounts(client: RunningSluice['client'], taskQueue: string, ns: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const add = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}' OR SluiceNamespace = '${ns}'` })) ids.push(wf.workflowId);
  await inBatches(ids, 20, async (id) => {
    const kind = id.split('/')[0];
    add(`${kind} workflows`);
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      if (e.workflowTaskCompletedEventAttributes) add(`${kind}: workflow tasks`);
      else if (e.activityTaskScheduledEventAttributes) add(`${kind}: activities`);
      else if (e.markerRecordedEventAttributes) add(`${kind}: local activities`);
      else if (e.workflowExecutionSignaledEventAttributes) add(`${kind}: signals`);
      else if (e.timerStartedEventAttributes) add(`${kind}: timers`);
    }
  });
  return counts;
}

interface Run {
  syncedMs: number;
  /** When the watch saw each Application Synced and Healthy. */
  doneAt: Map<string, number>;
}

/** Creates N Applications in a namespace of their own, with a Sluice of their own, and waits until all are Synced and Healthy. */
async function run(
  stack: TestStack,
  label: string,
  subscribe: ((ns: string) => Promise<Record<string, string>>) | undefined,
  delivered?: () => number,
): Promise<Run> {
  const ns = await createNamespace(stack.kube, `bench-notify-${label}`);
  const annotations = subscribe ? await subscribe(ns) : {};
  const repoDir = repository(N);
  const sluice = await startSluice(
    {
      ...configFromEnv({}),
      temporalAddress: stack.temporalAddress,
      taskQueue: `sluice-${ns}`,
      watchNamespace: ns,
      apiPort: 0,
      maxCachedWorkflows: 2 * N + 100,
      applicationTimings: { reconcileMs: 3_600_000, jitterMs: 0 },
      // As configured for the process (SLUICE_NOTIFICATIONS_DEFER_WHILE_SYNCING=0 to compare without).
      notificationsDeferral: configFromEnv().notificationsDeferral,
    },
    stack.kube,
    () => undefined,
  );
  const doneAt = new Map<string, number>();
  const watching = new AbortController();
  void inform(
    { kube: stack.kube, resource: Resources.application, namespace: ns, signal: watching.signal, log: (m, f) => console.error(m, f) },
    (type, app) => {
      const s = (app as { status?: { sync?: { status?: string }; health?: { status?: string } } }).status;
      if (type !== 'DELETED' && s?.sync?.status === 'Synced' && s.health?.status === 'Healthy' && !doneAt.has(app.metadata.name))
        doneAt.set(app.metadata.name, Date.now());
    },
  );
  const cpuBefore = PROFILE ? cpuSnapshot() : undefined;
  const started = Date.now();
  await inBatches([...Array(N).keys()], 50, (i) =>
    stack.kube.create(Resources.application, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: `app-${i}`, namespace: ns, annotations },
      spec: {
        project: 'default',
        source: { repoURL: `file://${repoDir}`, targetRevision: 'HEAD', path: `app-${i}` },
        destination: { server: 'https://kubernetes.default.svc', namespace: ns },
        syncPolicy: { automated: { prune: true } },
      },
    }),
  );
  while (doneAt.size < N) {
    await new Promise((r) => setTimeout(r, 1000));
    process.stdout.write(`\r  ${label}: ${doneAt.size}/${N} Synced and Healthy after ${seconds(Date.now() - started)}   `);
    if (Date.now() - started > 30 * 60_000) throw new Error('gave up after 30 minutes');
  }
  console.log('');
  const syncedMs = Math.max(...doneAt.values()) - started;
  // Nothing can fire before the first Application is Synced and Healthy: a gap here is the run, not notifications.
  console.log(`  ${label}: first Synced and Healthy after ${seconds(Math.min(...doneAt.values()) - started)}`);
  if (cpuBefore) {
    const after = cpuSnapshot();
    const used = [...after].map(([k, v]) => [k, v - (cpuBefore.get(k) ?? 0)] as const).filter(([, v]) => v >= 0.5);
    console.log(`  ${label}: CPU seconds until all synced: ${used.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  }
  if (delivered) {
    // Until every Application's message is in (or two minutes), then 20 s more for late duplicates.
    const since = Date.now();
    while (delivered() < N && Date.now() - since < 120_000) await new Promise((r) => setTimeout(r, 500));
    console.log(`  ${label}: all delivered ${seconds(Date.now() - started - syncedMs)} after the last sync`);
    await new Promise((r) => setTimeout(r, 20_000));
  }
  if (PROFILE) {
    const counts = await workflowCounts(sluice.client, `sluice-${ns}`, ns);
    console.log(
      `  ${label}: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  watching.abort();
  await sluice.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  fs.rmSync(repoDir, { recursive: true, force: true });
  return { syncedMs, doneAt };
}

async function main() {
  const stack = await testStack();
  process.env.SLUICE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-home-'));

  const received = new Map<string, number[]>(); // app → receipt times
  const keys = new Map<string, number>(); // idempotency key → receipts
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const at = Date.now();
      const app = (JSON.parse(body) as { app: string }).app;
      received.set(app, [...(received.get(app) ?? []), at]);
      const key = String(req.headers['idempotency-key']);
      keys.set(key, (keys.get(key) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;

  // The second run meets the first one's open workflows and namespace deletion: SLUICE_BENCH_SUBSCRIBED_FIRST=1 swaps them.
  const subscribedFirst = process.env.SLUICE_BENCH_SUBSCRIBED_FIRST === '1';
  const plainRun = () => run(stack, 'plain', undefined);
  const early = subscribedFirst ? undefined : await plainRun();
  const subscribed = await run(
    stack,
    'subscribed',
    async (ns) => {
      await stack.kube.create(Resources.configMap, ns, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'argocd-notifications-cm', namespace: ns },
        data: {
          'service.webhook.receiver': `url: http://127.0.0.1:${port}\n`,
          // The built-in on-deployed trigger; its template with a webhook body.
          'template.app-deployed': `webhook:\n  receiver:\n    method: POST\n    body: '{"app": "{{.app.metadata.name}}"}'\n`,
        },
      });
      return { 'notifications.argoproj.io/subscribe.on-deployed.receiver': '' };
    },
    () => received.size,
  );
  const plain = early ?? (await plainRun());
  receiver.close();

  const latencies: number[] = [];
  let lost = 0;
  let duplicates = 0;
  for (let i = 0; i < N; i++) {
    const app = `app-${i}`;
    const times = received.get(app) ?? [];
    if (times.length === 0) lost++;
    duplicates += Math.max(0, times.length - 1);
    if (times.length > 0) latencies.push(times[0] - subscribed.doneAt.get(app)!);
  }
  console.log(
    `applications:                     ${N} (one ConfigMap each), subscribed to on-deployed with a webhook; ${subscribedFirst ? 'subscribed' : 'plain'} run first`,
  );
  console.log(`all Synced and Healthy, plain:    ${seconds(plain.syncedMs)}`);
  console.log(
    `all Synced and Healthy, subscribed: ${seconds(subscribed.syncedMs)}  (${(((subscribed.syncedMs - plain.syncedMs) / plain.syncedMs) * 100).toFixed(1)}% longer, target < 10%)`,
  );
  console.log(
    `delivery latency (watch saw Synced and Healthy → receipt): p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms`,
  );
  console.log(`duplicates: ${duplicates} (same idempotency key twice: ${[...keys.values()].filter((n) => n > 1).length}), lost: ${lost}  (both must be 0)`);
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
