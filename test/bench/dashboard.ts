// Benchmark: the dashboard in headless Chromium with 1,000 Applications and 1,000
// Rollouts present (created straight in the apiserver, with status; no workflows).
// Prints, for the Applications and the Rollouts page: time from navigation to the full
// list on screen (interactive), bytes transferred (compressed, as on the wire), and the
// time from a status change in the cluster to the page showing it (p50, p99).
// Targets (issue 17): interactive under 1 s, under 1 MB, p99 under 2 s.
//   flock /tmp/sluice-heavy.lock node dist/test/bench/dashboard.js
import type { FastifyInstance } from 'fastify';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { issueBootstrapToken } from '../../api/auth/bootstrap';
import type { RolloutCommands } from '../../api/rollout-commands';
import { buildApi } from '../../api/server';
import { launchBrowser, type Browser } from '../support/browser';
import { createNamespace, testStack } from '../support/stack';
import { inBatches, percentile } from './bench-support';

const N = Number(process.env.BENCH_OBJECTS ?? 1000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const LOADS = Number(process.env.BENCH_LOADS ?? 5);

const name = (prefix: string, i: number) => `${prefix}-${String(i).padStart(4, '0')}`;

function application(ns: string, i: number): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: name('app', i), namespace: ns, labels: { team: `team-${i % 10}` } },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.com/devops/ops-deploy', path: `apps/app-${i}`, targetRevision: 'HEAD' },
      destination: { server: 'https://kubernetes.default.svc', namespace: `dest-${i % 20}` },
    },
  };
}

const appStatus = (health: string) => ({
  status: {
    sync: { status: 'Synced', revision: '3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e' },
    health: { status: health },
    reconciledAt: new Date().toISOString(),
    operationState: { phase: 'Succeeded', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), message: 'successfully synced' },
  },
});

function rollout(ns: string, i: number): KubeObject {
  const n = name('ro', i);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: n, namespace: ns },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: n } },
      template: { metadata: { labels: { app: n } }, spec: { containers: [{ name: 'app', image: 'argoproj/rollouts-demo:blue' }] } },
      strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: '30s' } }] } },
    },
  };
}

const rolloutStatus = (phase: string) => ({ status: { phase, currentStepIndex: 4, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 } });

/** Where the time of a load went, ms from navigation: the page's script ran, the stream was asked for, answered, its first event parsed, the list rendered. */
const STAGES = ['script', 'stream-request', 'stream-open', 'stream-first-event', 'list-rendered'] as const;
type Stages = Partial<Record<(typeof STAGES)[number], number>>;

/** Navigates to `hash` on a fresh page (no cache) and returns ms to `ready`, the bytes received on the wire by then, and the stages. */
async function load(browser: Browser, url: string, token: string, hash: string, ready: string): Promise<{ ms: number; bytes: number; stages: Stages }> {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  cdp.on('Network.dataReceived', (e) => (bytes += e.encodedDataLength));
  cdp.on('Network.responseReceived', (e) => (bytes += e.response.encodedDataLength ?? 0));
  // The token as the login page leaves it, so the measured load is the list page's own.
  await page.goto(`${url}/healthz`);
  await page.evaluate((t) => (globalThis as any).sessionStorage.setItem('sluice.token', t), token);
  bytes = 0;
  await page.goto(`${url}/${hash}`);
  await page.waitForSelector(ready, { timeout: 30_000 });
  const ms = await page.evaluate(() => performance.now());
  const received = bytes;
  // The page's own marks (ui/api.ts, ui/pages/*) and when its script had run (DOMContentLoaded: the bundle is a classic script).
  const stages: Stages = await page.evaluate(
    (names) => {
      const nav = (globalThis as any).performance.getEntriesByType('navigation')[0] as { domContentLoadedEventEnd: number } | undefined;
      const at = (n: string) => performance.getEntriesByName(`sluice:${n}`)[0]?.startTime;
      return Object.fromEntries([['script', nav?.domContentLoadedEventEnd], ...names.slice(1).map((n) => [n, at(n)])]);
    },
    STAGES as unknown as string[],
  );
  await page.close();
  return { ms, bytes: received, stages };
}

async function main() {
  const stack = await testStack();
  let api: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let ns: string | undefined;
  try {
    ns = await createNamespace(stack.kube, 'bench-dash');
    const sluiceNs = await createNamespace(stack.kube, 'bench-dash-sluice');
    const started = Date.now();
    const idx = Array.from({ length: N }, (_, i) => i);
    await inBatches(idx, 32, async (i) => {
      const a = application(ns!, i);
      await stack.kube.create(Resources.application, ns, a);
      await stack.kube.patch(Resources.application, ns, a.metadata.name, appStatus('Healthy'), { subresource: 'status' });
      const ro = rollout(ns!, i);
      await stack.kube.create(Resources.rollout, ns, ro);
      await stack.kube.patch(Resources.rollout, ns, ro.metadata.name, rolloutStatus('Healthy'), { subresource: 'status' });
    });
    console.log(`created ${N} Applications and ${N} Rollouts (with status) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // The pages need no Temporal; no command is sent here.
    api = buildApi({ kube: stack.kube, commands: {} as RolloutCommands, sluiceNamespace: sluiceNs });
    const url = await api.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await issueBootstrapToken(stack.kube, sluiceNs);
    browser = await launchBrowser();

    const results: string[] = [];
    for (const [what, hash, ready] of [
      ['Applications', '#/applications', `tr[data-app=${name('app', N - 1)}]`],
      ['Rollouts', '#/rollouts', `tr[data-rollout=${name('ro', N - 1)}]`],
    ] as const) {
      const loads: Awaited<ReturnType<typeof load>>[] = [];
      for (let i = 0; i < LOADS; i++) loads.push(await load(browser, url, token, hash, ready));
      const ms = loads.map((l) => l.ms);
      const bytes = Math.max(...loads.map((l) => l.bytes));
      results.push(
        `${what.padEnd(12)} interactive p50 ${percentile(ms, 50).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms (${LOADS} cold loads)   transferred ${(bytes / 1024).toFixed(0)} KiB`,
        `${''.padEnd(12)} p50 of each stage: ${STAGES.map((st) => {
          const v = loads.map((l) => l.stages[st]).filter((x): x is number => typeof x === 'number');
          return `${st} ${v.length ? percentile(v, 50).toFixed(0) : '-'}`;
        }).join(', ')} ms`,
      );
    }

    // Status changes in the cluster, watched on an open Applications page.
    const page = browser.page;
    await page.goto(`${url}/healthz`);
    await page.evaluate((t) => (globalThis as any).sessionStorage.setItem('sluice.token', t), token);
    await page.goto(`${url}/#/applications`);
    await page.waitForSelector(`tr[data-app=${name('app', N - 1)}]`);
    const latencies: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const i = (c * 37) % N;
      const health = c % 2 === 0 ? 'Degraded' : 'Progressing';
      const t0 = Date.now();
      await stack.kube.patch(Resources.application, ns, name('app', i), appStatus(health), { subresource: 'status' });
      await page.waitForSelector(`tr[data-app=${name('app', i)}] [data-status=${health}]`, { timeout: 10_000 });
      latencies.push(Date.now() - t0);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);

    console.log(`\nDashboard with ${N} Applications and ${N} Rollouts (headless Chromium, same machine)`);
    for (const r of results) console.log(`  ${r}`);
    console.log(`  status change in the cluster → on the open Applications page: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (${CHANGES} changes)`);
    console.log('targets: interactive < 1000 ms, < 1 MB, p99 < 2000 ms');
  } finally {
    await browser?.close();
    await api?.close();
    if (ns) await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
