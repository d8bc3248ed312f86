// Benchmark: 50 canary rollouts of five setWeight steps (no pauses), updated together.
// Per-step transition latency = from the watch event in which a step's condition
// holds (the canary ReplicaSet at its count and available) to the watch event of the
// next step's write (its spec.replicas changing). Reference, in the same run: the
// same number of direct ReplicaSet scale calls, each timed from request to the watch
// event that shows it — the floor any controller pays for one write.
// Run: npm run bench:rollout-steps
// BENCH_PEER=argo-rollouts: then the same workload on Argo Rollouts' own controller (built
// once into the tool cache), each on a fresh local stack, at Argo's shipped client rate
// limit and at a raised one, and a table of both sides with Sluice / Argo ratios.
// BENCH_CPU_PROFILE=<dir>: V8 CPU profiles of the Sluice process's threads (see printHistoryCounts for the tasks).
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Resources, type KubeClient, type KubeObject } from '../../k8s/kube-client';
import { RAISED, SHIPPED, peerFromEnv, startArgoRolloutsPeer, type RateLimit } from './argo-rollouts-peer';
import {
  apiserverRequests,
  benchStack,
  cpuByProgram,
  descendantsNamed,
  inBatches,
  ms,
  percentile,
  printCpuDeltas,
  printRequestDeltas,
  printTable,
  printThreadDeltas,
  processCpuSeconds,
  ratio,
  rolloutManifest,
  threadCpuSeconds,
  spawnBenchSluice,
} from './bench-support';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 50);
const REPLICAS = 10;
const STEPS = [{ setWeight: 20 }, { setWeight: 40 }, { setWeight: 60 }, { setWeight: 80 }, { setWeight: 100 }];
const NS = 'bench-steps';

interface StepFigures {
  transitions: number[];
  /** From the image change to every rollout fully promoted. */
  total: number;
  /** The reference: direct ReplicaSet scale calls, request to watch event. */
  floor: number[];
  events: { at: number; rs: KubeObject }[];
  /** Watch events recorded during the steps. */
  seen: number;
  started: number;
  slowest: { owner: string; ms: number };
  /** CPU seconds during the steps of the controller's own processes, by name. */
  cpu: Map<string, number>;
}

async function main() {
  const peer = peerFromEnv();
  const sluice = await sluiceSide();
  if (!peer) return process.exit(0);
  const argo: { limit: RateLimit; figures: StepFigures; version: string }[] = [];
  // BENCH_PEER_LIMITS=raised: Argo at the raised limit only (its better setting here), to keep paired runs short.
  for (const limit of process.env.BENCH_PEER_LIMITS === 'raised' ? [RAISED] : [SHIPPED, RAISED]) argo.push(await argoSide(limit));

  const cpuTotal = (f: StepFigures) => [...f.cpu.values()].reduce((a, b) => a + b, 0);
  const p = (xs: number[], q: number) => percentile(xs, q);
  const row = (what: string, value: (f: StepFigures) => number, show: (n: number) => string, versus = true) => [
    what,
    show(value(sluice)),
    ...argo.flatMap(({ figures }) => [show(value(figures)), versus ? ratio(value(sluice), value(figures)) : '']),
  ];
  const secs = (n: number) => `${(n / 1000).toFixed(1)} s`;
  console.log(
    `\nSluice beside Argo Rollouts ${argo[0].version} (${ROLLOUTS} rollouts x ${STEPS.length} setWeight steps, ${REPLICAS} replicas; a fresh local stack each; ratio = Sluice / Argo)`,
  );
  printTable([
    ['', 'Sluice', ...argo.flatMap(({ limit }) => [limit.column, 'ratio'])],
    row('all promoted', (f) => f.total, secs),
    row('step p50', (f) => p(f.transitions, 50), ms),
    row('step p99', (f) => p(f.transitions, 99), ms),
    row('controller CPU during the steps', cpuTotal, (n) => `${n.toFixed(1)} s`),
    row('reference write p50', (f) => p(f.floor, 50), ms, false),
    row('reference write p99', (f) => p(f.floor, 99), ms, false),
  ]);
  console.log(`  Sluice's CPU: ${[...sluice.cpu].map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(' + ')}; Argo's: the rollouts-controller process`);
  process.exit(0);
}

/** Sluice as its own process on a fresh stack (Temporal dev server, control plane). */
async function sluiceSide(): Promise<StepFigures> {
  const { stack, stateDir, stop } = await benchStack();
  const kube = stack.kube;
  await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  // Warnings and errors only, as Argo's controller is run; a process of its own, so its CPU is its own.
  process.env.SLUICE_LOG_LEVEL ??= 'warn';
  const sluice = await spawnBenchSluice(stack, stateDir, NS);
  const worker = sluice.child.pid!;
  const temporal = descendantsNamed('temporal');
  const figures = await stepWorkload(
    kube,
    () =>
      new Map([
        ['worker', processCpuSeconds(worker)],
        ['Temporal', temporal.reduce((sum, pid) => sum + processCpuSeconds(pid), 0)],
      ]),
    worker,
  );
  printFigures('Sluice', figures);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection });
  await printHistoryCounts(client, figures.started);
  // BENCH_TIMELINE=1: the slowest rollout's workflow history beside its ReplicaSet
  // events, to see where a step's time goes.
  if (process.env.BENCH_TIMELINE) {
    const events = figures.events.filter((e) => e.rs.metadata.ownerReferences?.[0]?.name === figures.slowest.owner);
    await printTimeline(client, figures.slowest.owner, events, figures.started);
  }
  await connection.close();
  await sluice.kill('SIGTERM');
  await stop();
  return figures;
}

async function argoSide(limit: RateLimit): Promise<{ limit: RateLimit; figures: StepFigures; version: string }> {
  const peer = await startArgoRolloutsPeer(NS, limit);
  try {
    const pid = peer.controller.child.pid!;
    const figures = await stepWorkload(peer.kube, () => new Map([['rollouts-controller', processCpuSeconds(pid)]]));
    printFigures(`Argo Rollouts ${peer.version}, ${limit.label}`, figures);
    return { limit, figures, version: peer.version };
  } finally {
    await peer.stop();
  }
}

/** The workload, whichever controller runs it: the same rollouts, the same update, the same measurements. */
async function stepWorkload(kube: KubeClient, controllerCpu: () => Map<string, number>, threadsOf?: number): Promise<StepFigures> {
  const names = Array.from({ length: ROLLOUTS }, (_, i) => `ro-${i}`);
  await inBatches(names, 25, (n) => kube.create(Resources.rollout, NS, rolloutManifest(NS, n, REPLICAS, STEPS)));
  await waitUntil(
    'all rollouts Healthy',
    async () => (await kube.list(Resources.rollout, NS)).items.filter((r) => r.status?.phase === 'Healthy').length === ROLLOUTS,
  );

  // Record every ReplicaSet change with the time we saw it.
  const events: { at: number; rs: KubeObject }[] = [];
  const abort = new AbortController();
  const { resourceVersion } = await kube.list(Resources.replicaSet, NS);
  const watching = watchReplicaSets(kube, resourceVersion, (rs) => events.push({ at: performance.now(), rs }), abort.signal);

  const before = new Map((await kube.list(Resources.rollout, NS)).items.map((r) => [r.metadata.name, r.status?.currentPodHash as string]));
  const requestsBefore = process.env.BENCH_APISERVER ? await apiserverRequests(kube) : undefined;
  const cpuBefore = cpuByProgram();
  const controllerBefore = controllerCpu();
  const threadsBefore = threadsOf ? threadCpuSeconds(threadsOf) : undefined;
  const startedMono = process.hrtime.bigint() / 1000n;
  const started = performance.now();
  await Promise.all(
    names.map((n) =>
      kube.patch(Resources.rollout, NS, n, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'demo:2' }], { type: 'json' }),
    ),
  );
  await waitUntil('all rollouts promoted', async () => {
    const { items } = await kube.list(Resources.rollout, NS);
    const done = (r: KubeObject) =>
      r.status?.phase === 'Healthy' && r.status.currentPodHash !== before.get(r.metadata.name) && r.status.stableRS === r.status.currentPodHash;
    return items.filter(done).length === ROLLOUTS;
  });
  const total = performance.now() - started;
  const cpu = new Map([...controllerCpu()].map(([k, v]) => [k, v - (controllerBefore.get(k) ?? 0)]));
  printCpuDeltas('during the steps', cpuBefore, cpuByProgram());
  if (threadsOf && threadsBefore) printThreadDeltas('the Sluice process', threadsBefore, threadCpuSeconds(threadsOf));
  // For a CPU profile (BENCH_CPU_PROFILE): V8's sample times are this monotonic clock's microseconds.
  if (process.env.BENCH_CPU_PROFILE) console.log(`  the steps, monotonic clock in µs: ${startedMono}-${process.hrtime.bigint() / 1000n}`);
  if (requestsBefore) printRequestDeltas('during the steps', requestsBefore, await apiserverRequests(kube));
  // Transitions, per rollout: walk its ReplicaSet events in order, keeping the latest
  // state of each; the step's condition holds at the first event in which the canary
  // and the stable ReplicaSet both sit at their step counts, fully available; the
  // transition ends at the first later event that changes the canary's spec.replicas.
  const transitions: number[] = [];
  let slowest = { owner: names[0], ms: 0 };
  const byRollout = new Map<string, { at: number; rs: KubeObject }[]>();
  for (const e of events) {
    if (!e.rs?.metadata?.labels) continue;
    const owner = e.rs.metadata.ownerReferences?.[0]?.name ?? '';
    const list = byRollout.get(owner) ?? [];
    list.push(e);
    byRollout.set(owner, list);
  }
  const settled = (rs: KubeObject | undefined, n: number) =>
    !!rs && rs.spec.replicas === n && (rs.status?.availableReplicas ?? 0) === n && (rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0);
  for (const [owner, list] of byRollout) {
    const newHash = owner ? (await kube.find(Resources.rollout, NS, owner))?.status?.currentPodHash : undefined;
    if (!newHash) continue;
    const latest = new Map<string, KubeObject>();
    let holdingSince: number | undefined;
    let heldFor = -1;
    for (const { at, rs } of list) {
      latest.set(rs.metadata.labels!['rollouts-pod-template-hash'], rs);
      const canary = latest.get(newHash);
      const stable = [...latest.entries()].find(([h]) => h !== newHash)?.[1];
      if (!canary) continue;
      const c = canary.spec.replicas;
      if (holdingSince !== undefined && c !== heldFor) {
        transitions.push(at - holdingSince);
        if (at - holdingSince > slowest.ms) slowest = { owner, ms: at - holdingSince };
        holdingSince = undefined;
      }
      if (holdingSince === undefined && c !== heldFor && c > 0 && c < REPLICAS && settled(canary, c) && (!stable || settled(stable, stable.spec.replicas))) {
        holdingSince = at;
        heldFor = c;
      }
    }
  }

  // Reference: direct scale calls, each timed until its watch event arrives.
  const floor: number[] = [];
  const rsNames = [...new Set(events.map((e) => e.rs.metadata.name))].slice(0, ROLLOUTS);
  const pending = new Map<string, { sent: number; replicas: number }>();
  const seen = events.length;
  const refAbort = new AbortController();
  const { resourceVersion: rv2 } = await kube.list(Resources.replicaSet, NS);
  const refWatch = watchReplicaSets(
    kube,
    rv2,
    (rs) => {
      const p = pending.get(rs.metadata.name);
      if (p && rs.spec.replicas === p.replicas) {
        floor.push(performance.now() - p.sent);
        pending.delete(rs.metadata.name);
      }
    },
    refAbort.signal,
  );
  for (let round = 0; round < STEPS.length; round++) {
    await Promise.all(
      rsNames.map(async (name, i) => {
        const replicas = 20 + round + (i % 2);
        pending.set(name, { sent: performance.now(), replicas });
        await kube.patch(Resources.replicaSet, NS, name, { spec: { replicas } });
      }),
    );
    await waitUntil('reference writes seen', async () => pending.size === 0, 30_000);
  }
  abort.abort();
  refAbort.abort();
  const restarts = (await Promise.all([watching, refWatch])).reduce((a, b) => a + b, 0);
  if (restarts) console.log(`  (the bench's ReplicaSet watches ended early ${restarts} times and were resumed from the last event seen)`);

  return { transitions, total, floor, events, seen, started, slowest, cpu };
}

function printFigures(who: string, f: StepFigures): void {
  console.log(`\n${who}: rollout step transitions (${ROLLOUTS} rollouts x ${STEPS.length} setWeight steps, ${REPLICAS} replicas, started together)`);
  console.log(`  transitions measured  ${f.transitions.length}   (watch events recorded: ${f.seen})`);
  console.log(`  p50                   ${ms(percentile(f.transitions, 50))}`);
  console.log(`  p99                   ${ms(percentile(f.transitions, 99))}`);
  console.log(`  total                 ${ms(f.total)} from the image change to all ${ROLLOUTS} fully promoted`);
  console.log(`  controller CPU        ${[...f.cpu].map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  console.log(`Reference: ${f.floor.length} direct ReplicaSet scale calls, request to watch event, same cluster, same run`);
  console.log(`  p50                   ${ms(percentile(f.floor, 50))}`);
  console.log(`  p99                   ${ms(percentile(f.floor, 99))}`);
}

/**
 * What the workflows recorded from the image change on, per rollout and step: the
 * workflow tasks (each one a round trip to Temporal and a run of workflow code), the
 * nudges that caused them, and the calls they made. Where Sluice's CPU goes, in units.
 */
async function printHistoryCounts(client: Client, started: number): Promise<void> {
  const from = performance.timeOrigin + started;
  const counts = new Map<string, number>();
  // What opened each workflow task (the events that came in since the previous one
  // completed), and why the watchers nudged: where the tasks per step come from.
  const openedBy = new Map<string, number>();
  const reasons = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const triggers: Record<string, string> = {
    WORKFLOW_EXECUTION_SIGNALED: 'nudge',
    TIMER_FIRED: 'timer',
    ACTIVITY_TASK_COMPLETED: 'activity',
    ACTIVITY_TASK_FAILED: 'activity',
    WORKFLOW_EXECUTION_UPDATE_ADMITTED: 'command',
    WORKFLOW_TASK_FAILED: 'failed task',
    WORKFLOW_TASK_TIMED_OUT: 'timed-out task',
  };
  for (let i = 0; i < ROLLOUTS; i++) {
    const history = await client.workflow.getHandle(`rollout/${NS}/ro-${i}`).fetchHistory();
    let pending = new Set<string>();
    for (const e of history.events ?? []) {
      const t = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
      const type = String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace('EVENT_TYPE_', '');
      if (triggers[type]) pending.add(triggers[type]);
      if (type === 'WORKFLOW_TASK_STARTED') {
        if (t >= from) bump(openedBy, [...pending].sort().join('+') || 'none');
        pending = new Set();
      }
      if (t < from) continue;
      bump(counts, type);
      const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
      if (payload) {
        const reason = String((JSON.parse(Buffer.from(payload).toString('utf8')) as { reason?: string }).reason ?? '');
        bump(reasons, reason.replace(/^replicaset \S+/, 'replicaset'));
      }
    }
  }
  const steps = ROLLOUTS * STEPS.length;
  const per = (type: string) => ((counts.get(type) ?? 0) / steps).toFixed(1);
  console.log(
    `Sluice's histories during the steps, per rollout and step: ${per('WORKFLOW_TASK_COMPLETED')} workflow tasks, ${per('WORKFLOW_EXECUTION_SIGNALED')} nudges, ` +
      `${per('MARKER_RECORDED')} local activities, ${per('ACTIVITY_TASK_SCHEDULED')} activities, ${per('WORKFLOW_TASK_FAILED') + ' failed / ' + per('WORKFLOW_TASK_TIMED_OUT')} timed-out workflow tasks`,
  );
  const listed = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${(n / steps).toFixed(2)}`)
      .join(', ');
  console.log(`  workflow tasks opened by (per rollout and step): ${listed(openedBy)}`);
  console.log(`  nudges by reason: ${listed(reasons)}`);
  console.log(
    `  timers started / fired / canceled: ${per('TIMER_STARTED')} / ${per('TIMER_FIRED')} / ${per('TIMER_CANCELED')}; history events ${(
      [...counts.values()].reduce((a, b) => a + b, 0) / steps
    ).toFixed(1)}`,
  );
}

/**
 * ReplicaSet events until `signal`, resumed from the last one seen if the API server ends
 * the watch early (it did once, under load, and a run then measured no transitions).
 * Bookmarks and errors are not events of a ReplicaSet. Returns how many times it resumed.
 */
async function watchReplicaSets(kube: KubeClient, from: string | undefined, onReplicaSet: (rs: KubeObject) => void, signal: AbortSignal): Promise<number> {
  let resourceVersion = from;
  let restarts = -1;
  while (!signal.aborted) {
    restarts++;
    await kube
      .watch(
        Resources.replicaSet,
        NS,
        { resourceVersion, timeoutSeconds: 600 },
        (ev) => {
          resourceVersion = ev.object?.metadata?.resourceVersion ?? resourceVersion;
          if (['ADDED', 'MODIFIED', 'DELETED'].includes(ev.type)) onReplicaSet(ev.object);
        },
        signal,
      )
      .catch(() => undefined);
    if (!signal.aborted) await new Promise((r) => setTimeout(r, 200));
  }
  return restarts;
}

/** The slowest rollout's workflow history beside its ReplicaSet events. */
async function printTimeline(client: Client, rollout: string, rsEvents: { at: number; rs: KubeObject }[], started: number): Promise<void> {
  const origin = performance.timeOrigin;
  const lines: [number, string][] = rsEvents.map(({ at, rs }) => [
    origin + at,
    `rs ${rs.metadata.name} spec=${rs.spec.replicas} avail=${rs.status?.availableReplicas ?? 0} gen=${rs.metadata.generation}/${rs.status?.observedGeneration ?? 0}`,
  ]);
  console.error(`timeline of rollout ${rollout}`);
  const history = await client.workflow.getHandle(`rollout/${NS}/${rollout}`).fetchHistory();
  for (const e of history.events ?? []) {
    const t = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    const attrs =
      e.activityTaskScheduledEventAttributes?.activityType?.name ??
      e.markerRecordedEventAttributes?.markerName ??
      e.workflowExecutionSignaledEventAttributes?.signalName ??
      '';
    lines.push([t, `wf ${String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace('EVENT_TYPE_', '')} ${attrs}`]);
  }
  const t0 = origin + started;
  for (const [t, what] of lines.sort((a, b) => a[0] - b[0])) if (t >= t0) console.error(`${String(Math.round(t - t0)).padStart(7)} ms  ${what}`);
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
