// Benchmark: 200 concurrent AnalysisRuns measuring every 1 s against the real Prometheus.
// Prints measurements per second achieved vs scheduled, and how late each measurement
// started behind its schedule (previous finishedAt + interval, Argo's rule), p50/p99,
// from the runs' own status timestamps. Reference, in the same run: the same queries
// on plain in-process timers (setTimeout), which is the floor for lateness on this
// machine under this load. Target: p99 lateness ≤ 250 ms.
//   node dist/test/bench/analysis-runs.js            (starts its own stack)
//   source /tmp/<you>-env && node dist/test/bench/analysis-runs.js   (reuses one)
// BENCH_METRIC=web, or BENCH_PEER=argo-rollouts (which implies it): a web metric every
// 10 s instead (BENCH_INTERVAL_SECONDS, BENCH_COUNT measurements, default 6), served by
// this process, which times each request; lateness is a request's arrival behind the
// previous response plus the interval. With the peer, the same runs on Argo Rollouts' own
// controller on a fresh local stack, and both sides with CPU per measurement.
// Sluice's side also counts what its workflow histories recorded per measurement (workflow
// tasks, timers, local and ordinary activities). BENCH_CPU_PROFILE=<dir>: the Sluice
// process writes a V8 CPU profile there when it stops (node --cpu-prof).
import * as http from 'node:http';
import axios from 'axios';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Resources, type KubeClient } from '../../k8s/kube-client';
import type { AnalysisRunStatus } from '../../domain/analysis/types';
import { createNamespace, eventually, startSluiceFor, testStack } from '../support/stack';
import { RAISED, SHIPPED, peerFromEnv, startArgoRolloutsPeer, type RateLimit } from './argo-rollouts-peer';
import { benchStack, spawnBenchSluice, cpuByProgram, descendantsNamed, printTable, processCpuSeconds, ratio } from './bench-support';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const COUNT = Number(process.env.BENCH_COUNT ?? 10);
const INTERVAL_MS = 1000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(0)} ms, p99 ${percentile(s, 99).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})`;
};

/** The same schedule on in-process timers: each "run" queries, then waits 1 s after it finished. */
async function reference(prometheusUrl: string, seconds: number): Promise<{ lateness: number[]; rate: number }> {
  const lateness: number[] = [];
  let total = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: RUNS }, async () => {
      let due = Date.now();
      while (Date.now() < end) {
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        lateness.push(Date.now() - due);
        await axios.get(`${prometheusUrl}/api/v1/query`, { params: { query: 'vector(0.01)' } });
        total++;
        due = Date.now() + INTERVAL_MS;
      }
    }),
  );
  return { lateness, rate: total / seconds };
}

async function main() {
  const stack = await testStack({ prometheus: true });
  const ns = await createNamespace(stack.kube, 'bench-analysis');
  const sluice = await startSluiceFor(stack, ns);
  try {
    const spec = {
      metrics: [
        {
          name: 'rate',
          interval: '1s',
          count: COUNT,
          successCondition: 'result[0] < 0.05',
          provider: { prometheus: { address: stack.prometheusUrl, query: 'vector(0.01)' } },
        },
      ],
    };
    const t0 = Date.now();
    for (let i = 0; i < RUNS; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, RUNS - i) }, (_x, j) =>
          stack.kube.create(Resources.analysisRun, ns, { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun', metadata: { name: `bench-${i + j}` }, spec }),
        ),
      );
    }
    console.log(`${RUNS} AnalysisRuns created in ${Date.now() - t0} ms; each takes ${COUNT} measurements 1 s apart`);
    const runs = await eventually(
      'every run completes',
      async () => {
        const { items } = await stack.kube.list(Resources.analysisRun, ns);
        return items.length === RUNS && items.every((r) => r.status?.phase === 'Successful') ? items : undefined;
      },
      (COUNT * 30 + 120) * 1000,
      5000, // listing 200 runs with their status is not free: look rarely, so as not to compete with Sluice
    );
    const lateness: number[] = [];
    let first = Infinity;
    let last = 0;
    let measurements = 0;
    for (const run of runs) {
      const status = run.status as AnalysisRunStatus;
      const ms = status.metricResults[0].measurements;
      measurements += status.metricResults[0].count;
      let due = Date.parse(status.startedAt!);
      for (const m of ms) {
        const started = Date.parse(m.startedAt!);
        // Retention keeps the last 10; lateness is measured between retained neighbours.
        if (m !== ms[0] || ms.length === status.metricResults[0].count) lateness.push(started - due);
        due = Date.parse(m.finishedAt!) + INTERVAL_MS;
        first = Math.min(first, started);
        last = Math.max(last, Date.parse(m.finishedAt!));
      }
    }
    const seconds = (last - first) / 1000;
    console.log(`Sluice (durable timers): ${(measurements / seconds).toFixed(1)} measurements/s achieved vs ${RUNS} scheduled; lateness ${fmt(lateness)}`);
    const ref = await reference(stack.prometheusUrl!, 10);
    console.log(`reference (in-process timers, same queries): ${ref.rate.toFixed(1)} measurements/s; lateness ${fmt(ref.lateness)}`);
  } finally {
    await sluice.stop();
    await stack.stop();
  }
}

/** What one side of the web-metric bench measured. */
interface WebFigures {
  lateness: number[];
  measurements: number;
  /** From the first run created to the last one Successful. */
  seconds: number;
  controllerCpu: number;
  /** Every process of the side's stack but this one (the bench, which serves the metric). */
  allCpu: number;
  /** allCpu by program name ("node" is the Sluice process: this one's own time is taken out). */
  byProgram: [string, number][];
  /** Lateness by measurement number (from the second on): whether the tail is the first rounds' or every round's. */
  latenessByRound: number[][];
}

const WEB_INTERVAL_MS = Number(process.env.BENCH_INTERVAL_SECONDS ?? 10) * 1000;
const WEB_COUNT = Number(process.env.BENCH_COUNT ?? 6);
const WEB_NS = 'bench-analysis';

async function webMain(peer: boolean) {
  const sluice = await sluiceWebSide();
  if (!peer) return;
  const argo: { limit: RateLimit; figures: WebFigures; version: string }[] = [];
  for (const limit of [SHIPPED, RAISED]) argo.push(await argoWebSide(limit));
  const late = (f: WebFigures, q: number) => percentileOf(f.lateness, q);
  const perMeasurement = (cpu: number, f: WebFigures) => (cpu * 1000) / f.measurements;
  const row = (what: string, value: (f: WebFigures) => number, show: (n: number) => string, difference = false) => [
    what,
    show(value(sluice)),
    ...argo.flatMap(({ figures }) => [
      show(value(figures)),
      difference ? `${value(sluice) - value(figures) >= 0 ? '+' : ''}${(value(sluice) - value(figures)).toFixed(0)} ms` : ratio(value(sluice), value(figures)),
    ]),
  ];
  const msOf = (n: number) => `${n.toFixed(0)} ms`;
  console.log(
    `\nSluice beside Argo Rollouts ${argo[0].version}: ${RUNS} AnalysisRuns, a web metric every ${WEB_INTERVAL_MS / 1000} s, ${WEB_COUNT} measurements each (a fresh local stack each; Sluice - Argo for lateness, Sluice / Argo for the rest)`,
  );
  printTable([
    ['', 'Sluice', ...argo.flatMap(({ limit }) => [limit.column, 'vs'])],
    row('lateness p50', (f) => late(f, 50), msOf, true),
    row('lateness p99', (f) => late(f, 99), msOf, true),
    row(
      'measurements',
      (f) => f.measurements,
      (n) => String(n),
    ),
    row(
      'controller CPU per measurement',
      (f) => perMeasurement(f.controllerCpu, f),
      (n) => `${n.toFixed(1)} ms`,
    ),
    row(
      'all processes CPU per measurement',
      (f) => perMeasurement(f.allCpu, f),
      (n) => `${n.toFixed(1)} ms`,
    ),
  ]);
  console.log(
    `  controller CPU: Sluice's worker + Temporal dev server; Argo's rollouts-controller. All processes: also etcd, kube-apiserver, the controller manager, scheduler and kwok.`,
  );
}

function percentileOf(xs: number[], p: number): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

async function sluiceWebSide(): Promise<WebFigures> {
  const { stack, stateDir, stop } = await benchStack();
  // The stack is stopped whatever fails (a Sluice that never served /healthz left it running once).
  let sluice: Awaited<ReturnType<typeof spawnBenchSluice>> | undefined;
  try {
    await stack.kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WEB_NS } });
    process.env.SLUICE_LOG_LEVEL ??= 'warn';
    sluice = await spawnBenchSluice(stack, stateDir, WEB_NS);
    const pids = [sluice.child.pid!, ...descendantsNamed('temporal')];
    const figures = await webWorkload(stack.kube, () => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0));
    printWebFigures('Sluice (worker + Temporal dev server)', figures);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    await printHistoryCounts(new Client({ connection }), figures.measurements);
    await connection.close();
    return figures;
  } finally {
    await sluice?.kill('SIGTERM');
    await stop();
  }
}

async function argoWebSide(limit: RateLimit): Promise<{ limit: RateLimit; figures: WebFigures; version: string }> {
  const peer = await startArgoRolloutsPeer(WEB_NS, limit);
  try {
    const pid = peer.controller.child.pid!;
    const figures = await webWorkload(peer.kube, () => processCpuSeconds(pid));
    printWebFigures(`Argo Rollouts ${peer.version}, ${limit.label}`, figures);
    return { limit, figures, version: peer.version };
  } finally {
    await peer.stop();
  }
}

function printWebFigures(who: string, f: WebFigures): void {
  const per = (cpu: number) => `${((cpu * 1000) / f.measurements).toFixed(1)} ms`;
  console.log(`\n${who}: ${RUNS} AnalysisRuns, a web metric every ${WEB_INTERVAL_MS / 1000} s`);
  console.log(`  ${f.measurements} measurements in ${f.seconds.toFixed(0)} s; lateness behind schedule ${fmt(f.lateness)}`);
  console.log(
    `  CPU ${f.controllerCpu.toFixed(1)} s by the controller (${per(f.controllerCpu)} per measurement), ${f.allCpu.toFixed(1)} s by all processes (${per(f.allCpu)})`,
  );
  console.log(`  lateness p99 by measurement: ${f.latenessByRound.map((xs, k) => `#${k + 2} ${percentileOf(xs, 99).toFixed(0)} ms`).join(', ')}`);
  console.log(`  CPU per measurement by program: ${f.byProgram.map(([k, v]) => `${k} ${per(v)}`).join(', ')}`);
}

/**
 * What the runs' workflow histories recorded, per measurement: the workflow tasks (each a
 * round trip to Temporal and a run of workflow code), the timers, and the calls. Where
 * Sluice's CPU goes, in units.
 */
async function printHistoryCounts(client: Client, measurements: number): Promise<void> {
  const counts = new Map<string, number>();
  for (let i = 0; i < RUNS; i++) {
    const history = await client.workflow.getHandle(`analysisrun/${WEB_NS}/bench-${i}`).fetchHistory();
    for (const e of history.events ?? []) {
      let type = String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace('EVENT_TYPE_', '');
      // A marker is a local activity's record or a patch's (core_patch).
      if (type === 'MARKER_RECORDED') type = `MARKER ${e.markerRecordedEventAttributes?.markerName ?? ''}`;
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
  }
  const per = (type: string) => ((counts.get(type) ?? 0) / measurements).toFixed(2);
  const events = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(
    `  Sluice's histories, per measurement: ${per('WORKFLOW_TASK_COMPLETED')} workflow tasks, ${per('TIMER_STARTED')} timers, ` +
      `${per('MARKER core_local_activity')} local activities, ${per('MARKER core_patch')} patch markers, ${per('ACTIVITY_TASK_SCHEDULED')} activities, ${(events / measurements).toFixed(1)} events ` +
      `(${per('WORKFLOW_TASK_FAILED')} failed / ${per('WORKFLOW_TASK_TIMED_OUT')} timed-out workflow tasks)`,
  );
}

/** The runs, whichever controller takes their measurements; this process serves the metric and times each request. */
async function webWorkload(kube: KubeClient, controllerCpu: () => number): Promise<WebFigures> {
  const arrivals = new Map<string, { arrived: number; answered: number }[]>();
  const server = http.createServer((req, res) => {
    const arrived = performance.now();
    const run = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    const list = arrivals.get(run) ?? [];
    arrivals.set(run, list);
    const entry = { arrived, answered: arrived };
    list.push(entry);
    res.on('finish', () => (entry.answered = performance.now()));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: 0.01 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const spec = (name: string) => ({
      metrics: [
        {
          name: 'web',
          interval: `${WEB_INTERVAL_MS / 1000}s`,
          count: WEB_COUNT,
          successCondition: 'result < 0.05',
          provider: { web: { url: `http://127.0.0.1:${port}/metric/${name}`, jsonPath: '{$.value}' } },
        },
      ],
    });
    const cpuBefore = cpuByProgram();
    const benchBefore = processCpuSeconds(process.pid);
    const controllerBefore = controllerCpu();
    const t0 = performance.now();
    for (let i = 0; i < RUNS; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, RUNS - i) }, (_x, j) => {
          const name = `bench-${i + j}`;
          return kube.create(Resources.analysisRun, WEB_NS, { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun', metadata: { name }, spec: spec(name) });
        }),
      );
    }
    await eventually(
      'every run completes',
      async () => {
        const { items } = await kube.list(Resources.analysisRun, WEB_NS);
        return items.length === RUNS && items.every((r) => r.status?.phase === 'Successful') ? items : undefined;
      },
      (WEB_COUNT * (WEB_INTERVAL_MS / 1000) * 5 + 120) * 1000,
      5000, // listing 200 runs with their status is not free: look rarely, so as not to compete
    );
    const seconds = (performance.now() - t0) / 1000;
    const controller = controllerCpu() - controllerBefore;
    const cpuAfter = cpuByProgram();
    const bench = processCpuSeconds(process.pid) - benchBefore;
    let all = -bench;
    const byProgram = new Map<string, number>();
    for (const [k, v] of cpuAfter) {
      if (k.startsWith('(')) continue;
      const d = v - (cpuBefore.get(k) ?? 0) - (k === 'node' ? bench : 0);
      all += v - (cpuBefore.get(k) ?? 0);
      if (d >= 0.05) byProgram.set(k, d);
    }
    const lateness: number[] = [];
    const latenessByRound: number[][] = [];
    let measurements = 0;
    for (const list of arrivals.values()) {
      measurements += list.length;
      for (let k = 1; k < list.length; k++) {
        const late = list[k].arrived - (list[k - 1].answered + WEB_INTERVAL_MS);
        lateness.push(late);
        (latenessByRound[k - 1] ??= []).push(late);
      }
    }
    return { lateness, measurements, seconds, controllerCpu: controller, allCpu: all, byProgram: [...byProgram].sort((a, b) => b[1] - a[1]), latenessByRound };
  } finally {
    server.close();
  }
}

const peerAsked = peerFromEnv() !== undefined;
(peerAsked || process.env.BENCH_METRIC === 'web' ? webMain(peerAsked).then(() => process.exit(0)) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
