// Reads the imports of a TypeScript source file and holds the layer rules that
// test/unit/architecture.test.ts checks (README.md § Architecture says why each holds).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths';

export interface LayerRule {
  /** Layers whose code this one may import (its own always). */
  layers: string[];
  /** Layers it may import types from, and nothing else. */
  typesFrom?: string[];
  /** Libraries it must not use. */
  forbiddenPackages: string[];
}

const IO = [
  'node:fs',
  'node:child_process',
  'node:net',
  'node:http',
  'node:https',
  'node:os',
  'fs',
  'child_process',
  'axios',
  'fastify',
  '@kubernetes/client-node',
  'prom-client',
];
const TEMPORAL = ['@temporalio/workflow', '@temporalio/activity', '@temporalio/worker', '@temporalio/client', '@temporalio/testing'];

export const layerRules: Record<string, LayerRule> = {
  // Pure, deterministic: Argo's vocabulary, decisions, arithmetic. Libraries only.
  domain: { layers: [], forbiddenPackages: [...IO, ...TEMPORAL] },
  // Temporal code only; it calls activities through proxies typed by their interfaces.
  workflows: {
    layers: ['domain'],
    typesFrom: ['activities'],
    forbiddenPackages: [...IO, '@temporalio/activity', '@temporalio/worker', '@temporalio/client', '@temporalio/testing'],
  },
  // All I/O, acting on what workflows decide.
  activities: { layers: ['domain', 'k8s'], forbiddenPackages: ['@temporalio/workflow', '@temporalio/worker', 'fastify'] },
  // The runtime Kubernetes client, informers and our CRDs.
  k8s: { layers: ['domain'], forbiddenPackages: TEMPORAL },
  // The Temporal worker and the watchers; no HTTP.
  worker: { layers: ['domain', 'workflows', 'activities', 'k8s'], forbiddenPackages: ['fastify', 'axios'] },
  // The HTTP API; it reaches workflows through the Temporal client, never the worker.
  api: { layers: ['domain', 'workflows', 'k8s'], forbiddenPackages: ['@temporalio/worker', '@temporalio/activity'] },
  // The client of the HTTP API.
  cli: { layers: ['domain'], forbiddenPackages: [...TEMPORAL, 'fastify', '@kubernetes/client-node'] },
  // The local stack for `npm start` and the tests: toolchain, control plane, Temporal dev server.
  stack: { layers: ['k8s', 'domain'], forbiddenPackages: ['@temporalio/workflow', '@temporalio/worker', 'fastify'] },
  // The composition root: wires everything into processes.
  cmd: { layers: ['domain', 'workflows', 'activities', 'k8s', 'worker', 'api', 'cli', 'stack'], forbiddenPackages: [] },
};

export const layerOf = (file: string): string => file.split('/')[0];

export interface SourceImport {
  specifier: string;
  /** The imported source file, repository-relative, when the specifier is relative. */
  target?: string;
  typeOnly: boolean;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports of one file (repository-relative path), with relative ones resolved to files. */
export function importsOf(file: string, source: string): SourceImport[] {
  const found: SourceImport[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const specifier = m[3] ?? m[4];
    const typeOnly = Boolean(m[2]);
    if (!specifier.startsWith('.')) {
      found.push({ specifier, typeOnly });
      continue;
    }
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    const candidates = [`${base}.ts`, `${base}/index.ts`];
    const target = candidates.find((c) => fs.existsSync(path.join(repoRoot, c))) ?? candidates[0];
    found.push({ specifier, target, typeOnly });
  }
  return found;
}

/** Each import cycle once, as the files on it starting from the smallest name. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const normal = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(normal.join(' -> '), normal);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}
