// Benchmark: worker memory with many rollouts held at an indefinite pause. One Sluice
// process (worker + watcher + API) drives them; its resident memory is read from
// /proc at each size, beside the same process idle with none (the reference). Idle
// workflows are evicted from the worker's cache and replayed on demand, so memory
// should level off at the cache size rather than grow with the number of rollouts.
// Run: npm run bench:rollout-memory   (BENCH_ROLLOUTS=1000 by default)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Resources } from '../../k8s/kube-client';
import { spawnSluice, type TestStack } from '../support/stack';
import { ensureTools } from '../../stack/toolchain';
import { ensureAdminToken } from '../support/api-token';
import { benchStack, inBatches, rolloutManifest } from './bench-support';

const TOTAL = Number(process.env.BENCH_ROLLOUTS ?? 1000);
const CHECKPOINTS = [TOTAL / 4, TOTAL / 2, TOTAL].map(Math.round);
const NS = 'bench-idle';
/** How long the process is left idle before the settled figure (BENCH_SETTLE_SECONDS). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_SECONDS ?? 150) * 1000;

const rssMiB = (pid: number) => {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
};

async function main() {
  const { stack, stateDir, stop } = await benchStack();
  const tools = await ensureTools(() => undefined);
  const kube = stack.kube;
  await ensureAdminToken(kube);
  await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const test: TestStack = {
    kube,
    kubeconfigPath: stack.kubeconfigPath,
    temporalAddress: stack.temporalAddress,
    kubectlPath: tools.kubectl,
    temporalBinary: tools.temporal,
    stop: async () => undefined,
  };
  const sluice = await spawnSluice(test, NS, path.join(stateDir, 'sluice.log'));
  const pid = sluice.child.pid!;
  await new Promise((r) => setTimeout(r, 3000));
  const idle = rssMiB(pid);
  console.log(
    `\nSluice worker resident memory with rollouts paused indefinitely (one process, workflow cache ${process.env.SLUICE_MAX_CACHED_WORKFLOWS ?? 500})`,
  );
  console.log(`  reference: the same process with no rollouts   ${idle.toFixed(0)} MiB`);

  let created = 0;
  for (const target of CHECKPOINTS) {
    const names = Array.from({ length: target - created }, (_, i) => `idle-${created + i}`);
    await inBatches(names, 50, (n) => kube.create(Resources.rollout, NS, rolloutManifest(NS, n, 1, [{ setWeight: 50 }, { pause: {} }])));
    // The new batch Healthy (the earlier ones stay Paused), then all of them Paused.
    const batch = new Set(names);
    await waitCount('Healthy', names.length, (r) => batch.has(r.metadata.name) && r.status?.phase === 'Healthy');
    await inBatches(names, 50, (n) =>
      kube.patch(Resources.rollout, NS, n, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'demo:2' }], { type: 'json' }),
    );
    await waitCount('Paused', target, (r) => r.status?.phase === 'Paused');
    created = target;
    await new Promise((r) => setTimeout(r, 5000));
    global.gc?.();
    console.log(
      `  ${String(target).padStart(5)} rollouts paused, right after the burst  ${rssMiB(pid).toFixed(0)} MiB   (target <= 1024 MiB)   ${await heapOf(sluice.apiUrl)}`,
    );
    // RSS right after a burst is the heaps' high-water mark; V8 gives pages back once the
    // process has been idle a while. What stays is what the paused rollouts really cost.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    console.log(
      `  ${String(target).padStart(5)} rollouts paused, idle ${SETTLE_MS / 1000} s          ${rssMiB(pid).toFixed(0)} MiB   (target <= 1024 MiB)   ${await heapOf(sluice.apiUrl)}`,
    );
  }
  await sluice.kill('SIGTERM');
  await stop();
  process.exit(0);

  async function waitCount(what: string, n: number, ok: (r: any) => boolean) {
    const deadline = Date.now() + 900_000;
    while (Date.now() < deadline) {
      const { items } = await kube.list(Resources.rollout, NS);
      if (items.filter(ok).length >= n) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`timed out waiting for ${n} rollouts ${what}`);
  }
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
