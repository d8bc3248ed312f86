// What an integration or e2e test stands on. Under `npm test` the runner starts one
// shared stack and passes it in the environment; a test file run on its own starts
// its own stack, so no test assumes that anything is already running.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeClient, Resources } from '../../k8s/kube-client';
import { startLocalStack, type LocalStack } from '../../stack/local-stack';
import { freePort } from '../../stack/process-group';
import { ensureTools } from '../../stack/toolchain';
import { configFromEnv } from '../../worker/config';
import { startSluice, type RunningSluice } from '../../cmd/process';
import { ensureAdminToken } from './api-token';
import { workerMainPath } from './paths';
import { shippedServiceAccountKube } from './service-account';

export interface TestStack {
  kube: KubeClient;
  kubeconfigPath: string;
  temporalAddress: string;
  kubectlPath: string;
  temporalBinary: string;
  prometheusUrl?: string;
  prometheusTargetsDir?: string;
  /** Only set when this test file started its own stack. */
  own?: LocalStack;
  /**
   * What Sluice itself authenticates as: with SLUICE_TEST_AS_SERVICE_ACCOUNT=1, the shipped
   * ServiceAccount (deploy/base/rbac.yaml) through a minted token; else the admin, as `kube`.
   */
  sluiceKube?: KubeClient;
  sluiceKubeconfigPath?: string;
  stop(): Promise<void>;
}

export async function testStack(opts: { prometheus?: boolean } = {}): Promise<TestStack> {
  // The tests' and benches' repositories are file:// on this disk, as under `sluice up`
  // (test/run.ts sets it for the suite; a bench run on its own needs it too).
  process.env.SLUICE_ALLOW_FILE_REPOS ??= 'true';
  const stack = await adminTestStack(opts);
  if (!/^(1|true)$/.test(process.env.SLUICE_TEST_AS_SERVICE_ACCOUNT ?? '')) return stack;
  const sa = await shippedServiceAccountKube(stack.kubectlPath, stack.kubeconfigPath, stack.kube);
  const stop = stack.stop;
  return {
    ...stack,
    sluiceKube: sa.kube,
    sluiceKubeconfigPath: sa.kubeconfigPath,
    stop: async () => {
      sa.kube.close();
      fs.rmSync(path.dirname(sa.kubeconfigPath), { recursive: true, force: true });
      await stop();
    },
  };
}

async function adminTestStack(opts: { prometheus?: boolean }): Promise<TestStack> {
  const tools = await ensureTools(() => undefined);
  const e = process.env;
  if (e.SLUICE_TEST_KUBECONFIG && e.SLUICE_TEST_TEMPORAL_ADDRESS) {
    const kube = KubeClient.fromKubeconfig(e.SLUICE_TEST_KUBECONFIG);
    await ensureAdminToken(kube);
    return {
      kube,
      kubeconfigPath: e.SLUICE_TEST_KUBECONFIG,
      temporalAddress: e.SLUICE_TEST_TEMPORAL_ADDRESS,
      kubectlPath: tools.kubectl,
      temporalBinary: tools.temporal,
      prometheusUrl: e.SLUICE_TEST_PROMETHEUS_URL || undefined,
      prometheusTargetsDir: e.SLUICE_TEST_PROMETHEUS_TARGETS || undefined,
      stop: async () => kube.close(),
    };
  }
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-test-own-'));
  const own = await startLocalStack({ stateDir, fixedPorts: false, headless: true, etcdNoFsync: true, prometheus: opts.prometheus, log: () => undefined });
  // A bench stopped from outside (Ctrl-C, kill) takes its own stack with it.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => void own.stop().finally(() => process.exit(code)));
  }
  await ensureAdminToken(own.kube);
  return {
    kube: own.kube,
    kubeconfigPath: own.kubeconfigPath,
    temporalAddress: own.temporalAddress,
    kubectlPath: tools.kubectl,
    temporalBinary: tools.temporal,
    prometheusUrl: own.prometheusUrl,
    prometheusTargetsDir: own.prometheusServer?.targetsDir,
    own,
    stop: async () => {
      await own.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
export async function createNamespace(kube: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++counter}-${Date.now().toString(36)}`.slice(0, 63);
  await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export async function kubectl(stack: TestStack, args: string[], input?: string): Promise<string> {
  const res = await runCommand(stack.kubectlPath, args, { ...process.env, KUBECONFIG: stack.kubeconfigPath }, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${res.code}): ${res.stderr}`);
  return res.stdout;
}

/** Deletes a test's namespace (and so its NodePorts), without waiting for it to go. */
export async function deleteNamespace(kube: KubeClient, name: string): Promise<void> {
  await kube.delete(Resources.namespace, undefined, name).catch(() => undefined);
}

/** Polls until `probe` returns something truthy; the error names what never happened. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Sluice in this process, scoped to one namespace and its own task queue. */
export async function startSluiceFor(stack: TestStack, namespace: string): Promise<RunningSluice> {
  const config = { ...configFromEnv({}), temporalAddress: stack.temporalAddress, taskQueue: `sluice-${namespace}`, watchNamespace: namespace, apiPort: 0 };
  return startSluice(config, stack.sluiceKube ?? stack.kube, () => undefined);
}

export interface SluiceProcess {
  child: ChildProcess;
  apiUrl: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Sluice as a separate OS process (worker/main.js), for tests that SIGKILL it. It drains
 * for 5 s on SIGTERM (so a test's teardown stays short) unless `env` says otherwise.
 */
export async function spawnSluice(
  stack: TestStack,
  namespace: string,
  logFile: string,
  apiPort?: number,
  env: NodeJS.ProcessEnv = {},
  /** Options for node itself (--cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs: string[] = [],
): Promise<SluiceProcess> {
  const port = apiPort ?? (await freePort());
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, workerMainPath], {
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      KUBECONFIG: stack.sluiceKubeconfigPath ?? stack.kubeconfigPath,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      SLUICE_TASK_QUEUE: `sluice-${namespace}`,
      SLUICE_WATCH_NAMESPACE: namespace,
      SLUICE_API_PORT: String(port),
      SLUICE_SHUTDOWN_GRACE_SECONDS: '5',
      ...env,
    },
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const apiUrl = `http://127.0.0.1:${port}`;
  await eventually('the Sluice process serves /healthz', async () => (await fetch(`${apiUrl}/healthz`)).ok, 60_000, 200);
  return {
    child,
    apiUrl,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
