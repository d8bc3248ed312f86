// Shared by the benchmark scripts: a stack of their own, percentiles, a table.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalStack, type LocalStack } from '../../stack/local-stack';
import { ensureTools } from '../../stack/toolchain';
import { spawnSluice, type SluiceProcess } from '../support/stack';
import type { KubeClient } from '../../k8s/kube-client';

export async function benchStack(prometheus = false): Promise<{ stack: LocalStack; stateDir: string; stop: () => Promise<void> }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const stack = await startLocalStack({
    stateDir,
    fixedPorts: false,
    headless: true,
    etcdNoFsync: true,
    prometheus,
    log: (l) => console.error(`[bench] ${l}`),
  });
  return {
    stack,
    stateDir,
    stop: async () => {
      await stack.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Sluice as a process of its own against a bench stack, so its CPU and memory are its own.
 * BENCH_CPU_PROFILE=<dir>: it writes a V8 CPU profile of each of its threads there when it stops.
 */
export async function spawnBenchSluice(stack: LocalStack, stateDir: string, namespace: string): Promise<SluiceProcess> {
  const tools = await ensureTools(() => undefined);
  const profile = process.env.BENCH_CPU_PROFILE;
  return spawnSluice(
    {
      kube: stack.kube,
      kubeconfigPath: stack.kubeconfigPath,
      temporalAddress: stack.temporalAddress,
      kubectlPath: tools.kubectl,
      temporalBinary: tools.temporal,
      stop: async () => undefined,
    },
    namespace,
    path.join(stateDir, 'sluice.log'),
    undefined,
    {},
    profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : [],
  );
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const ms = (n: number) => `${n.toFixed(1)} ms`;

export async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export function rolloutManifest(namespace: string, name: string, replicas: number, steps: unknown[], image = 'demo:1') {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      strategy: { canary: { steps } },
    },
  };
}

/** The API server's request counters by verb and resource (BENCH_APISERVER=1 in the benches). */
export async function apiserverRequests(kube: KubeClient): Promise<Map<string, number>> {
  const { text } = await kube.getText('/metrics');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (k: string) => line.match(new RegExp(`[{,]${k}="([^"]*)"`))?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? '/' + label('subresource') : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** What each counter gained between two readings, largest first, above a floor. */
function deltas(before: Map<string, number>, after: Map<string, number>, floor: number): (readonly [string, number])[] {
  return [...after]
    .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
    .filter(([, d]) => d >= floor)
    .sort((a, b) => b[1] - a[1]);
}

export function printRequestDeltas(when: string, before: Map<string, number>, after: Map<string, number>): void {
  console.log(`API server requests ${when} (verb resource/subresource: count)`);
  for (const [k, d] of deltas(before, after, 1).slice(0, 20)) console.log(`  ${String(d).padStart(6)}  ${k}`);
}

/** CPU seconds used so far by this process and each process under it, by program name (from /proc), and by their exited children. */
export function cpuByProgram(): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const procs = new Map<number, { ppid: number; name: string; cpu: number; reaped: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(f[1]), name, cpu: (Number(f[11]) + Number(f[12])) / tick, reaped: (Number(f[13]) + Number(f[14])) / tick });
    } catch {
      /* gone meanwhile */
    }
  }
  // Time the hypervisor gave to other machines while ours wanted to run: a noisy neighbour shows here.
  const steal = Number(fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)[8] ?? 0) / tick;
  const mine = (pid: number): boolean => pid === process.pid || (pid > 1 && procs.has(pid) && mine(procs.get(pid)!.ppid));
  const out = new Map<string, number>([['(stolen by the hypervisor)', steal]]);
  for (const [pid, p] of procs) {
    if (!mine(pid)) continue;
    out.set(p.name, (out.get(p.name) ?? 0) + p.cpu);
    // Short-lived children (git, tar, kustomize) are gone by now: their time is their parent's "reaped" time.
    if (p.reaped > 0) out.set(`${p.name}'s exited children`, (out.get(`${p.name}'s exited children`) ?? 0) + p.reaped);
  }
  return out;
}

export function printCpuDeltas(when: string, before: Map<string, number>, after: Map<string, number>): void {
  console.log(
    `CPU seconds ${when}, by program (this process is "node"): ${deltas(before, after, 0.05)
      .map(([k, d]) => `${k} ${d.toFixed(1)}`)
      .join(', ')}`,
  );
}

/** CPU seconds (user + system, all threads) one process has used so far; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of each thread of one process so far, by thread id, with its name ("main" for the process's first thread). */
export function threadCpuSeconds(pid: number): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { name, cpu: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The threads that used the most CPU between two readings of threadCpuSeconds, busiest first. */
export function printThreadDeltas(who: string, before: Map<number, { name: string; cpu: number }>, after: Map<number, { name: string; cpu: number }>): void {
  const rows = [...after]
    .map(([tid, t]) => ({ tid, name: t.name, d: t.cpu - (before.get(tid)?.cpu ?? 0) }))
    .filter((r) => r.d >= 0.05)
    .sort((a, b) => b.d - a.d);
  console.log(`CPU seconds of ${who}'s threads during the steps (name/tid): ${rows.map((r) => `${r.name}/${r.tid} ${r.d.toFixed(1)}`).join(', ')}`);
}

/** Resident memory of one process, from /proc. */
export function residentMiB(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** The pids of this process's descendants whose program is `name` (as /proc/<pid>/stat gives it, 15 characters at most). */
export function descendantsNamed(name: string): number[] {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const mine = (pid: number): boolean => pid === process.pid || (pid > 1 && parent.has(pid) && mine(parent.get(pid)!));
  return [...names].filter(([pid, n]) => n === name.slice(0, 15) && pid !== process.pid && mine(pid)).map(([pid]) => pid);
}

/** Sluice's figure over the peer's, as printed beside both. */
export const ratio = (sluice: number, peer: number) => (Number.isFinite(sluice / peer) ? `${(sluice / peer).toFixed(2)}x` : '-');

/** A table of rows of cells, first column left-aligned, the rest right-aligned. */
export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   '));
}
