// Benchmark (prints figures; not a pass/fail test): N Applications (default 1,000), one
// ConfigMap each, created at once, twice: without subscriptions, then each subscribed to
// on-deployed with a webhook to a local receiver. Prints the delivery latency (from when
// this process's watch saw the Application Synced and Healthy to the receipt), p50/p99,
// duplicates and lost sends (both must be 0), and how much longer the subscribed run took
// to sync than the plain one (target: under 10%).
//   node dist/test/bench/notifications.js            (SLUICE_BENCH_APPS=200 for fewer)
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Resources } from '../../k8s/kube-client';
import { inform } from '../../k8s/informer';
import { configFromEnv } from '../../worker/config';
import { startSluice } from '../../cmd/process';
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

interface Run {
  syncedMs: number;
  /** When the watch saw each Application Synced and Healthy. */
  doneAt: Map<string, number>;
}

/** Creates N Applications in a namespace of their own, with a Sluice of their own, and waits until all are Synced and Healthy. */
async function run(stack: TestStack, label: string, subscribe: ((ns: string) => Promise<Record<string, string>>) | undefined): Promise<Run> {
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
  if (subscribe) await new Promise((r) => setTimeout(r, 30_000)); // late or duplicate sends arrive now
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

  const plain = await run(stack, 'plain', undefined);
  const subscribed = await run(stack, 'subscribed', async (ns) => {
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
  });
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
  console.log(`applications:                     ${N} (one ConfigMap each), subscribed to on-deployed with a webhook`);
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
