// Benchmark: 200 concurrent AnalysisRuns measuring every 1 s against the real Prometheus.
// Prints measurements per second achieved vs scheduled, and how late each measurement
// started behind its schedule (previous finishedAt + interval, Argo's rule), p50/p99,
// from the runs' own status timestamps. Reference, in the same run: the same queries
// on plain in-process timers (setTimeout), which is the floor for lateness on this
// machine under this load. Target: p99 lateness ≤ 250 ms.
//   node dist/test/bench/analysis-runs.js            (starts its own stack)
//   source /tmp/<you>-env && node dist/test/bench/analysis-runs.js   (reuses one)
import axios from 'axios';
import { Resources } from '../../k8s/kube-client';
import type { AnalysisRunStatus } from '../../domain/analysis/types';
import { createNamespace, eventually, startSluiceFor, testStack } from '../support/stack';

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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
