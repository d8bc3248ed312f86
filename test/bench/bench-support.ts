// Shared by the benchmark scripts: a stack of their own, percentiles, a table.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalStack, type LocalStack } from '../../k8s/local-stack';

export async function benchStack(prometheus = false): Promise<{ stack: LocalStack; stateDir: string; stop: () => Promise<void> }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const stack = await startLocalStack({ stateDir, fixedPorts: false, headless: true, etcdNoFsync: true, prometheus, log: (l) => console.error(`[bench] ${l}`) });
  return {
    stack,
    stateDir,
    stop: async () => {
      await stack.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
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
