// Benchmark: 50 canary rollouts of five setWeight steps (no pauses), updated together.
// Per-step transition latency = from the watch event in which a step's condition
// holds (the canary ReplicaSet at its count and available) to the watch event of the
// next step's write (its spec.replicas changing). Reference, in the same run: the
// same number of direct ReplicaSet scale calls, each timed from request to the watch
// event that shows it — the floor any controller pays for one write.
// Run: npm run bench:rollout-steps
import type { Client } from '@temporalio/client';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { configFromEnv } from '../../worker/config';
import { startSluice } from '../../cmd/process';
import { apiserverRequests, benchStack, cpuByProgram, inBatches, ms, percentile, printCpuDeltas, printRequestDeltas, rolloutManifest } from './bench-support';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 50);
const REPLICAS = 10;
const STEPS = [{ setWeight: 20 }, { setWeight: 40 }, { setWeight: 60 }, { setWeight: 80 }, { setWeight: 100 }];
const NS = 'bench-steps';

async function main() {
  const { stack, stop } = await benchStack();
  const kube = stack.kube;
  await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const sluice = await startSluice(
    { ...configFromEnv({}), temporalAddress: stack.temporalAddress, taskQueue: 'bench', watchNamespace: NS, apiPort: 0 },
    kube,
    () => undefined,
  );

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
  const watching = kube
    .watch(Resources.replicaSet, NS, { resourceVersion, timeoutSeconds: 600 }, (ev) => events.push({ at: performance.now(), rs: ev.object }), abort.signal)
    .catch(() => undefined);

  const before = new Map((await kube.list(Resources.rollout, NS)).items.map((r) => [r.metadata.name, r.status?.currentPodHash as string]));
  const requestsBefore = process.env.BENCH_APISERVER ? await apiserverRequests(kube) : undefined;
  const cpuBefore = cpuByProgram();
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
  printCpuDeltas('during the steps', cpuBefore, cpuByProgram());
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
  const refWatch = kube
    .watch(
      Resources.replicaSet,
      NS,
      { resourceVersion: rv2, timeoutSeconds: 600 },
      (ev) => {
        const p = pending.get(ev.object.metadata.name);
        if (p && ev.object.spec.replicas === p.replicas) {
          floor.push(performance.now() - p.sent);
          pending.delete(ev.object.metadata.name);
        }
      },
      refAbort.signal,
    )
    .catch(() => undefined);
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
  await Promise.all([watching, refWatch]);

  console.log(`\nSluice rollout step transitions (${ROLLOUTS} rollouts x ${STEPS.length} setWeight steps, ${REPLICAS} replicas, started together)`);
  console.log(`  transitions measured  ${transitions.length}   (watch events recorded: ${seen})`);
  console.log(`  p50                   ${ms(percentile(transitions, 50))}   target <= 150 ms`);
  console.log(`  p99                   ${ms(percentile(transitions, 99))}   target <= 1000 ms`);
  console.log(`  total                 ${ms(total)} from the image change to all ${ROLLOUTS} fully promoted`);
  console.log(`Reference: ${floor.length} direct ReplicaSet scale calls, request to watch event, same cluster, same run`);
  console.log(`  p50                   ${ms(percentile(floor, 50))}`);
  console.log(`  p99                   ${ms(percentile(floor, 99))}`);

  // BENCH_TIMELINE=1: the slowest rollout's workflow history beside its ReplicaSet
  // events, to see where a step's time goes.
  if (process.env.BENCH_TIMELINE)
    await printTimeline(
      sluice.client,
      slowest.owner,
      events.filter((e) => e.rs.metadata.ownerReferences?.[0]?.name === slowest.owner),
      started,
    );
  await sluice.stop();
  await stop();
  process.exit(0);
}

/** apiserver_request_total summed by verb, resource and subresource. */
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
    lines.push([t, `wf ${String(e.eventType).replace('EVENT_TYPE_', '')} ${attrs}`]);
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
