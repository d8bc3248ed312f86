// Benchmark: worker memory with many rollouts held at an indefinite pause. One Sluice
// process (worker + watcher + API) drives them; its resident memory is read from
// /proc at each size, beside the same process idle with none (the reference). Idle
// workflows are evicted from the worker's cache and replayed on demand, so memory
// should level off at the cache size rather than grow with the number of rollouts.
// Run: npm run bench:rollout-memory   (BENCH_ROLLOUTS=1000 by default)
// BENCH_PEER=argo-rollouts: then the same rollouts held paused by Argo Rollouts' own
// controller on a fresh local stack, at half and all of them, and both sides side by side
// (Sluice's worker, and the worker plus its Temporal dev server, against Argo's one process).
import { Resources, type KubeClient, type KubeObject } from '../../k8s/kube-client';
import { ensureAdminToken } from '../support/api-token';
import { RAISED, peerFromEnv, startArgoRolloutsPeer } from './argo-rollouts-peer';
import { benchStack, spawnBenchSluice, descendantsNamed, inBatches, printTable, ratio, residentMiB, rolloutManifest } from './bench-support';

const TOTAL = Number(process.env.BENCH_ROLLOUTS ?? 1000);
const PEER = peerFromEnv();
const CHECKPOINTS = (PEER ? [TOTAL / 2, TOTAL] : [TOTAL / 4, TOTAL / 2, TOTAL]).map(Math.round);
const NS = 'bench-idle';
/** How long the process is left idle before the settled figure (BENCH_SETTLE_SECONDS). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_SECONDS ?? 150) * 1000;

/** Resident memory at each checkpoint, settled after the idle wait, by what was measured. */
type Settled = Map<number, Map<string, number>>;

async function main() {
  const sluice = await sluiceSide();
  if (!PEER) return process.exit(0);
  const argo = await argoSide();
  const mib = (n: number | undefined) => (n === undefined ? '-' : `${n.toFixed(0)} MiB`);
  console.log(`\nResident memory with rollouts paused indefinitely, idle ${SETTLE_MS / 1000} s after each burst (ratio = Sluice / Argo)`);
  const rows = [['', 'Sluice worker', 'worker + Temporal', `Argo Rollouts ${argo.version}`, 'worker ratio', 'worker + Temporal ratio']];
  for (const n of ['idle', ...CHECKPOINTS] as const) {
    const s = sluice.get(n === 'idle' ? 0 : n)!;
    const a = argo.settled.get(n === 'idle' ? 0 : n)!;
    const controller = a.get('rollouts-controller')!;
    rows.push([
      n === 'idle' ? 'no rollouts' : `${n} paused`,
      mib(s.get('worker')),
      mib(s.get('worker + Temporal')),
      mib(controller),
      ratio(s.get('worker')!, controller),
      ratio(s.get('worker + Temporal')!, controller),
    ]);
  }
  printTable(rows);
  console.log(`  Argo's controller was run with ${RAISED.label} (the pauses do not depend on it; the bursts finish sooner)`);
  process.exit(0);
}

async function sluiceSide(): Promise<Settled> {
  const { stack, stateDir, stop } = await benchStack();
  const kube = stack.kube;
  await ensureAdminToken(kube);
  await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const sluice = await spawnBenchSluice(stack, stateDir, NS);
  const pid = sluice.child.pid!;
  const temporal = descendantsNamed('temporal');
  await new Promise((r) => setTimeout(r, 3000));
  console.log(
    `\nSluice worker resident memory with rollouts paused indefinitely (one process, workflow cache ${process.env.SLUICE_MAX_CACHED_WORKFLOWS ?? 500})`,
  );
  const memory = () => {
    const worker = residentMiB(pid);
    return new Map([
      ['worker', worker],
      ['worker + Temporal', worker + temporal.reduce((sum, p) => sum + residentMiB(p), 0)],
    ]);
  };
  const settled = await holdPaused(kube, memory, async () => await heapOf(sluice.apiUrl));
  await sluice.kill('SIGTERM');
  await stop();
  return settled;
}

async function argoSide(): Promise<{ settled: Settled; version: string }> {
  const peer = await startArgoRolloutsPeer(NS, RAISED);
  try {
    const pid = peer.controller.child.pid!;
    await new Promise((r) => setTimeout(r, 3000));
    console.log(`\nArgo Rollouts ${peer.version} controller resident memory with rollouts paused indefinitely (${RAISED.label})`);
    const settled = await holdPaused(peer.kube, () => new Map([['rollouts-controller', residentMiB(pid)]]));
    return { settled, version: peer.version };
  } finally {
    await peer.stop();
  }
}

/** Creates the rollouts in bursts up to each checkpoint, pauses them all, and reads memory right after and once idle. */
async function holdPaused(kube: KubeClient, memory: () => Map<string, number>, detail: () => Promise<string> = async () => ''): Promise<Settled> {
  const show = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(', ');
  const settled: Settled = new Map([[0, memory()]]);
  console.log(`  reference: the same process with no rollouts   ${show(settled.get(0)!)}`);
  let created = 0;
  for (const target of CHECKPOINTS) {
    const names = Array.from({ length: target - created }, (_, i) => `idle-${created + i}`);
    await inBatches(names, 50, (n) => kube.create(Resources.rollout, NS, rolloutManifest(NS, n, 1, [{ setWeight: 50 }, { pause: {} }])));
    // The new batch Healthy (the earlier ones stay Paused), then all of them Paused.
    const batch = new Set(names);
    await waitCount(kube, 'Healthy', names.length, (r) => batch.has(r.metadata.name) && r.status?.phase === 'Healthy');
    await inBatches(names, 50, (n) =>
      kube.patch(Resources.rollout, NS, n, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'demo:2' }], { type: 'json' }),
    );
    await waitCount(kube, 'Paused', target, (r) => r.status?.phase === 'Paused');
    created = target;
    await new Promise((r) => setTimeout(r, 5000));
    console.log(`  ${String(target).padStart(5)} rollouts paused, right after the burst  ${show(memory())}   (target <= 1024 MiB)   ${await detail()}`);
    // RSS right after a burst is the heaps' high-water mark; V8 (and Go's runtime) give pages
    // back once the process has been idle a while. What stays is what the paused rollouts really cost.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    settled.set(target, memory());
    console.log(
      `  ${String(target).padStart(5)} rollouts paused, idle ${SETTLE_MS / 1000} s          ${show(settled.get(target)!)}   (target <= 1024 MiB)   ${await detail()}`,
    );
  }
  return settled;
}

async function waitCount(kube: KubeClient, what: string, n: number, ok: (r: KubeObject) => boolean) {
  const deadline = Date.now() + 900_000;
  while (Date.now() < deadline) {
    const { items } = await kube.list(Resources.rollout, NS);
    if (items.filter(ok).length >= n) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${n} rollouts ${what}`);
}

/** What of the resident memory is JavaScript heap, from the process's own metrics. */
async function heapOf(apiUrl: string): Promise<string> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1] ?? NaN) / 2 ** 20;
  return `heap used ${value('sluice_process_nodejs_heap_size_used_bytes').toFixed(0)} MiB of ${value('sluice_process_nodejs_heap_size_total_bytes').toFixed(0)}, external ${value('sluice_process_nodejs_external_memory_bytes').toFixed(0)} MiB`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
