// Benchmark (prints figures; not a pass/fail test): N Applications (default 1,000), one
// ConfigMap each, created at once, without subscriptions ("plain") and each subscribed to
// on-deployed with a webhook to a local receiver ("subscribed"). Every run gets a fresh
// local stack (Temporal, API server, etcd, ...) and a fresh Sluice process, so no run meets
// another's workflows, namespace deletion or warm caches, and the runs go in ABBA order
// (plain, subscribed, subscribed, plain) so that a machine getting busier or quieter during
// the invocation weighs on both sides alike. Prints each run, each pair's ratio and the
// overall extra time of the subscribed runs (target: under 10%), and for the subscribed
// runs the delivery latency (from when this process's watch saw the Application Synced and
// Healthy to the receipt, p50/p99/max), duplicates and lost sends (both must be 0; a
// message not in two minutes after the last sync is lost).
//
//   flock /tmp/sluice-heavy.lock node dist/test/bench/notifications.js
//
// SLUICE_BENCH_APPS=200 for fewer Applications; SLUICE_BENCH_ORDER=subscribed,plain (any
// list of the two) for other orders; SLUICE_NOTIFICATIONS_* settings reach the Sluice
// processes. SLUICE_BENCH_PROFILE=1 also prints what the runs' workflows did (workflow
// tasks, activities, local activities, signals), read from their histories. At 1,000 the
// four runs took 11-13 minutes on the shared 2-core machine (NOTES.md, Notifications, has
// the figures; a run moves by 10-15% with what else the machine runs, so read the pairs).
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { Resources } from '../../k8s/kube-client';
import { inform } from '../../k8s/informer';
import { createNamespace, spawnSluice, testStack, type TestStack } from '../support/stack';
import { cpuByProgram, inBatches, percentile, processCpuSeconds } from './bench-support';

const N = Number(process.env.SLUICE_BENCH_APPS ?? 1000);
const ORDER = (process.env.SLUICE_BENCH_ORDER ?? 'plain,subscribed,subscribed,plain').split(',').map((s) => s.trim()) as Kind[];
const PROFILE = process.env.SLUICE_BENCH_PROFILE === '1';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
type Kind = 'plain' | 'subscribed';

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

/** What the run's workflows did, counted from their histories. */
async function workflowCounts(client: Client, ns: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const add = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `TaskQueue = 'sluice-${ns}' OR TaskQueue = 'sluice-${ns}-notifications' OR SluiceNamespace = '${ns}'` }))
    ids.push(wf.workflowId);
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

/** The webhook receiver: receipts per Application per namespace, and per idempotency key. */
class Receiver {
  readonly received = new Map<string, number[]>(); // `${ns}/${app}` → receipt times
  readonly keys = new Map<string, number>(); // idempotency key → receipts
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const at = Date.now();
      const { app, ns } = JSON.parse(body) as { app: string; ns: string };
      this.received.set(`${ns}/${app}`, [...(this.received.get(`${ns}/${app}`) ?? []), at]);
      const key = String(req.headers['idempotency-key']);
      this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  deliveredIn(ns: string): number {
    let n = 0;
    for (const k of this.received.keys()) if (k.startsWith(`${ns}/`)) n++;
    return n;
  }
  stop(): void {
    this.server.close();
  }
}

interface Run {
  kind: Kind;
  syncedMs: number;
  /** CPU seconds of the stack, Sluice and this process until all synced: the work, whatever else the machine ran. */
  cpu: number;
  /** CPU seconds other programs on the machine used meanwhile. */
  others: number;
}

/** On a fresh stack with a fresh Sluice process: N Applications in a namespace of their own, until all are Synced and Healthy (and, subscribed, all delivered). */
async function run(kind: Kind, index: number, receiver: Receiver): Promise<Run> {
  const label = `run ${index + 1} ${kind}`;
  const stack: TestStack = await testStack();
  const ns = await createNamespace(stack.kube, `bench-notify-${kind}`);
  const annotations: Record<string, string> = {};
  if (kind === 'subscribed') {
    await stack.kube.create(Resources.configMap, ns, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-notifications-cm', namespace: ns },
      data: {
        'service.webhook.receiver': `url: http://127.0.0.1:${receiver.port}\n`,
        // The built-in on-deployed trigger; its template with a webhook body.
        'template.app-deployed': `webhook:\n  receiver:\n    method: POST\n    body: '{"app": "{{.app.metadata.name}}", "ns": "{{.app.metadata.namespace}}"}'\n`,
      },
    });
    annotations['notifications.argoproj.io/subscribe.on-deployed.receiver'] = '';
  }
  const repoDir = repository(N);
  const logFile = path.join(os.tmpdir(), `sluice-bench-notify-${process.pid}-${index + 1}.log`);
  const sluice = await spawnSluice(stack, ns, logFile, undefined, {
    SLUICE_MAX_CACHED_WORKFLOWS: String(2 * N + 100),
    SLUICE_APP_RECONCILE_SECONDS: '3600',
    SLUICE_APP_RECONCILE_JITTER_SECONDS: '0',
  });
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
  const cpuBefore = cpuByProgram();
  const machineBefore = machineCpu();
  const sluiceCpuBefore = processCpuSeconds(sluice.child.pid!);
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
  // A timeline: when each quarter was synced, and how many messages were in by then (work done during the burst).
  const quarters: string[] = [];
  while (doneAt.size < N) {
    await new Promise((r) => setTimeout(r, 1000));
    while (quarters.length < 3 && doneAt.size >= ((quarters.length + 1) * N) / 4)
      quarters.push(`${(quarters.length + 1) * 25}% ${seconds(Date.now() - started)} (${receiver.deliveredIn(ns)} sent)`);
    process.stdout.write(`\r  ${label}: ${doneAt.size}/${N} Synced and Healthy after ${seconds(Date.now() - started)}   `);
    if (Date.now() - started > 30 * 60_000) throw new Error('gave up after 30 minutes');
  }
  process.stdout.write('\n');
  const syncedMs = Math.max(...doneAt.values()) - started;
  const cpuAfter = cpuByProgram();
  const sluiceCpu = processCpuSeconds(sluice.child.pid!) - sluiceCpuBefore;
  const machine = machineCpu();
  const ours = [...cpuAfter].filter(([k]) => !k.startsWith('(')).reduce((sum, [k, v]) => sum + v - (cpuBefore.get(k) ?? 0), 0);
  const sentDuringBurst = receiver.deliveredIn(ns);
  // The bench's own node (this process) and the Sluice process share the name: Sluice's is counted apart.
  const cpu = [...cpuAfter]
    .map(([k, v]) => [k, v - (cpuBefore.get(k) ?? 0) - (k === 'node' ? sluiceCpu : 0)] as const)
    .filter(([, v]) => v >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k === 'node' ? 'bench' : k} ${v.toFixed(1)}`);
  const lines = [
    `${label}: all Synced and Healthy after ${seconds(syncedMs)}; first after ${seconds(Math.min(...doneAt.values()) - started)}; ${quarters.join(', ')}`,
    `${label}: CPU seconds until all synced: sluice ${sluiceCpu.toFixed(1)}, ${cpu.join(', ')}; ` +
      `the machine's ${(machine.busy - machineBefore.busy).toFixed(1)} busy of ${(machine.total - machineBefore.total).toFixed(1)}, others' ${(machine.busy - machineBefore.busy - ours).toFixed(1)}`,
  ];
  if (kind === 'subscribed') {
    // Until every Application's message is in (or two minutes), then 20 s more for late duplicates.
    const since = Date.now();
    while (receiver.deliveredIn(ns) < N && Date.now() - since < 120_000) await new Promise((r) => setTimeout(r, 500));
    const allIn = Date.now() - started - syncedMs;
    await new Promise((r) => setTimeout(r, 20_000));
    const latencies: number[] = [];
    let lost = 0;
    let duplicates = 0;
    for (let i = 0; i < N; i++) {
      const times = receiver.received.get(`${ns}/app-${i}`) ?? [];
      if (times.length === 0) lost++;
      duplicates += Math.max(0, times.length - 1);
      if (times.length > 0) latencies.push(times[0] - doneAt.get(`app-${i}`)!);
    }
    lines.push(
      `${label}: ${sentDuringBurst} delivered before the last sync, all ${receiver.deliveredIn(ns)} ${seconds(allIn)} after it; ` +
        `latency p50 ${seconds(percentile(latencies, 50))}, p99 ${seconds(percentile(latencies, 99))}, max ${seconds(Math.max(...latencies))}; ` +
        `duplicates ${duplicates}, lost ${lost}`,
    );
  }
  if (PROFILE) {
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const counts = await workflowCounts(new Client({ connection }), ns);
    await connection.close();
    lines.push(
      `${label}: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  for (const l of lines) console.log(`  ${l}`);
  watching.abort();
  await sluice.kill('SIGTERM');
  await stack.stop();
  fs.rmSync(repoDir, { recursive: true, force: true });
  return { kind, syncedMs, cpu: ours, others: machine.busy - machineBefore.busy - ours };
}

async function main() {
  process.env.SLUICE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-home-'));
  const receiver = new Receiver();
  await receiver.start();
  console.log(
    `${N} Applications (one ConfigMap each), subscribed runs on on-deployed with a webhook; order ${ORDER.join(', ')}; each run on a fresh stack and Sluice process`,
  );
  const runs: Run[] = [];
  for (const [i, kind] of ORDER.entries()) runs.push(await run(kind, i, receiver));
  receiver.stop();

  console.log('summary:');
  for (const [i, r] of runs.entries())
    console.log(
      `  run ${i + 1} ${r.kind.padEnd(10)} all synced after ${seconds(r.syncedMs)}, CPU seconds ${r.cpu.toFixed(1)} (other programs meanwhile ${r.others.toFixed(1)})`,
    );
  // Consecutive runs of opposite kinds make a pair: (1,2), (3,4), ...
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const a = runs[i]!;
    const b = runs[i + 1]!;
    if (a.kind === b.kind) continue;
    const [plain, subscribed] = a.kind === 'plain' ? [a, b] : [b, a];
    console.log(
      `  pair runs ${i + 1}-${i + 2}: subscribed / plain ${(subscribed.syncedMs / plain.syncedMs).toFixed(3)} (${pct(subscribed.syncedMs, plain.syncedMs)}), CPU ${pct(subscribed.cpu, plain.cpu)}`,
    );
  }
  const mean = (k: Kind, f: (r: Run) => number) =>
    runs.filter((r) => r.kind === k).reduce((s, r) => s + f(r), 0) / Math.max(1, runs.filter((r) => r.kind === k).length);
  const total = (k: Kind) => mean(k, (r) => r.syncedMs);
  if (runs.some((r) => r.kind === 'plain') && runs.some((r) => r.kind === 'subscribed'))
    console.log(
      `  extra time of the subscribed runs: ${pct(total('subscribed'), total('plain'))} (mean ${seconds(total('subscribed'))} against ${seconds(total('plain'))}; target < 10%); CPU ${pct(
        mean('subscribed', (r) => r.cpu),
        mean('plain', (r) => r.cpu),
      )}`,
    );
  const dup = [...receiver.keys.values()].filter((n) => n > 1).length;
  console.log(`  idempotency keys received more than once, all runs: ${dup}`);
}

/** CPU seconds of the whole machine (all cores): busy (not idle or iowait) and in all, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((s, v) => s + v, 0) / 100;
  return { busy: total - (f[3]! + f[4]!) / 100, total };
}

const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)}%`;

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
