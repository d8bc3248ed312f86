// Flux as the peer of the GitOps bench (BENCH_PEER=flux): source-controller and
// kustomize-controller, built from the Go module proxy (stack/flux-controllers), run on a
// fresh local control plane of the same kind Sluice's bench gets (same binaries, etcd without
// fsync) with Flux's CRDs and nothing of Sluice's. The same N applications — one ConfigMap
// each, a folder each in one repository — become one GitRepository (served over git's smart
// HTTP: source-controller refuses file://) and N Kustomizations with prune on, and the bench
// measures what it measures on Sluice: the time until all are Ready the first time, a no-op
// pass (every Kustomization asked to reconcile through reconcile.fluxcd.io/requestedAt), and
// the controllers' CPU during each. It runs after Sluice's stack has stopped, so neither
// side shares the two cores with the other.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inform } from '../../k8s/informer';
import { Resources, type KubeObject, type ResourceRef } from '../../k8s/kube-client';
import { waitFor } from '../../k8s/wait';
import { startLocalCluster } from '../../stack/local-cluster';
import { freePort, type ManagedProcess } from '../../stack/process-group';
import { ensureFluxControllers, ensureTools } from '../../stack/toolchain';
import { serveGitOverHttp } from '../support/git-http-server';
import { installCrds } from './argo-rollouts-peer';
import { cpuByProgram, inBatches, processCpuSeconds, residentMiB } from './bench-support';

const gitRepositories: ResourceRef = { group: 'source.toolkit.fluxcd.io', version: 'v1', plural: 'gitrepositories', namespaced: true };
const kustomizations: ResourceRef = { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations', namespaced: true };
/** Flux's way to ask for a reconcile now; status.lastHandledReconcileAt echoes the value once done. */
export const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

/** BENCH_PEER=flux; the GitOps bench has no other peer (Argo CD's gitops-engine does not build here). */
export function fluxPeerAsked(): boolean {
  const peer = process.env.BENCH_PEER;
  if (!peer) return false;
  if (peer !== 'flux') throw new Error(`BENCH_PEER=${peer}: the GitOps bench's only peer is flux`);
  return true;
}

/**
 * What Flux is given for N applications in folders app-0 … app-<N-1> of one repository:
 * one GitRepository (Sluice's side reads one shared repository too) and one Kustomization
 * per folder, pruning, into the same namespace. Intervals are an hour, as Sluice's bench
 * sets its periodic reconcile to an hour: neither side polls during the measurement.
 */
export function fluxManifests(opts: { namespace: string; repoUrl: string; branch: string; apps: number }): {
  gitRepository: KubeObject;
  kustomizations: KubeObject[];
} {
  const { namespace, repoUrl, branch, apps } = opts;
  const source = 'bench-repo';
  return {
    gitRepository: {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: source, namespace },
      spec: { url: repoUrl, ref: { branch }, interval: '60m' },
    },
    kustomizations: Array.from({ length: apps }, (_, i) => ({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: `app-${i}`, namespace },
      spec: {
        interval: '60m',
        path: `./app-${i}`,
        prune: true,
        sourceRef: { kind: 'GitRepository', name: source },
        targetNamespace: namespace,
      },
    })),
  };
}

/** Ready=True for the object's current generation. */
export function fluxReady(obj: KubeObject): boolean {
  const ready = (obj.status?.conditions as { type: string; status: string; observedGeneration?: number }[] | undefined)?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && (ready.observedGeneration ?? obj.status?.observedGeneration) === obj.metadata.generation;
}

/** Sluice's figures from the same invocation. */
export interface SluiceSide {
  apps: number;
  firstSyncMs: number;
  passMs: number;
  /** cpuByProgram() readings: before creation, all synced, pass done. */
  cpu: [Map<string, number>, Map<string, number>, Map<string, number>];
}

interface FluxFigures {
  firstSyncMs: number;
  passMs: number;
  /** CPU seconds of source-controller + kustomize-controller, and of every process of the run (control plane and this one included). */
  controllerCpu: { sync: number; pass: number };
  allCpu: { sync: number; pass: number };
  residentMiB: { source: number; kustomize: number };
}

const log = (l: string) => console.error(`[flux] ${l}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sum = (before: Map<string, number>, after: Map<string, number>, keep: (program: string) => boolean) =>
  [...after].filter(([k]) => keep(k) && k !== '(stolen by the hypervisor)').reduce((s, [k, v]) => s + v - (before.get(k) ?? 0), 0);
/** Sluice's controller: this process (worker, watcher, API and the bench) with its git and renderer children, and the Temporal dev server. */
const sluiceProgram = (p: string) => /^(node|temporal)\b/.test(p);

/** Runs the same applications on Flux and prints both sides and their ratios. */
export async function compareWithFlux(sluice: SluiceSide, manifest: (i: number) => string): Promise<void> {
  const flux = await runFlux(sluice.apps, manifest);
  const [c0, c1, c2] = sluice.cpu;
  const sluiceCpu = { sync: sum(c0, c1, sluiceProgram), pass: sum(c1, c2, sluiceProgram) };
  const sluiceAll = { sync: sum(c0, c1, () => true), pass: sum(c1, c2, () => true) };
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const row = (what: string, s: string, f: string, r: string) => console.log(`  ${what.padEnd(42)} ${s.padStart(10)} ${f.padStart(10)} ${r.padStart(9)}`);
  console.log(
    `\nFlux as the peer (${sluice.apps} Kustomizations of one GitRepository, shipped flags${process.env.BENCH_FLUX_QPS ? `, --kube-api-qps=${process.env.BENCH_FLUX_QPS}` : ''}):`,
  );
  row('', 'Sluice', 'Flux', 'Sluice/Flux');
  row('all synced / Ready the first time', seconds(sluice.firstSyncMs), seconds(flux.firstSyncMs), ratio(sluice.firstSyncMs, flux.firstSyncMs));
  row('no-op pass', seconds(sluice.passMs), seconds(flux.passMs), ratio(sluice.passMs, flux.passMs));
  row(
    'controller CPU until all synced',
    `${sluiceCpu.sync.toFixed(1)} s`,
    `${flux.controllerCpu.sync.toFixed(1)} s`,
    ratio(sluiceCpu.sync, flux.controllerCpu.sync),
  );
  row(
    'controller CPU during the no-op pass',
    `${sluiceCpu.pass.toFixed(1)} s`,
    `${flux.controllerCpu.pass.toFixed(1)} s`,
    ratio(sluiceCpu.pass, flux.controllerCpu.pass),
  );
  row("all processes' CPU until all synced", `${sluiceAll.sync.toFixed(1)} s`, `${flux.allCpu.sync.toFixed(1)} s`, ratio(sluiceAll.sync, flux.allCpu.sync));
  row(
    "all processes' CPU during the no-op pass",
    `${sluiceAll.pass.toFixed(1)} s`,
    `${flux.allCpu.pass.toFixed(1)} s`,
    ratio(sluiceAll.pass, flux.allCpu.pass),
  );
  row(
    'CPU per synced application, all processes',
    `${Math.round((sluiceAll.sync * 1000) / sluice.apps)} ms`,
    `${Math.round((flux.allCpu.sync * 1000) / sluice.apps)} ms`,
    ratio(sluiceAll.sync, flux.allCpu.sync),
  );
  console.log(
    `  (controller: Sluice = node (worker and bench) + its children + temporal; Flux = source-controller + kustomize-controller, resident ${Math.round(flux.residentMiB.source)} + ${Math.round(flux.residentMiB.kustomize)} MiB at the end)`,
  );
}

/** The applications on Flux alone: its figures. */
export async function runFlux(apps: number, manifest: (i: number) => string): Promise<FluxFigures> {
  const namespace = 'bench';
  const [tools, flux] = await Promise.all([ensureTools(log), ensureFluxControllers(log)]);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-flux-'));
  const repoDir = path.join(stateDir, 'repo');
  const branch = writeRepository(repoDir, apps, manifest);
  const git = await serveGitOverHttp(repoDir);
  const cluster = await startLocalCluster({ stateDir: path.join(stateDir, 'kubernetes'), tools, etcdNoFsync: true, log });
  const controllers: ManagedProcess[] = [];
  try {
    const kube = cluster.kube;
    await installCrds(kube, flux.crdsDir);
    await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });

    // The kubeconfig through KUBECONFIG (controller-runtime's loader); leader election is off by
    // default; every listener on loopback; kustomize-controller's temporary folders in ours.
    const qps = process.env.BENCH_FLUX_QPS
      ? [`--kube-api-qps=${process.env.BENCH_FLUX_QPS}`, `--kube-api-burst=${2 * Number(process.env.BENCH_FLUX_QPS)}`]
      : [];
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath, RUNTIME_NAMESPACE: namespace, TMPDIR: stateDir };
    const storage = `127.0.0.1:${await freePort()}`;
    const start = async (name: string, binary: string, flags: string[]) => {
      const health = await freePort();
      const ports = [`--metrics-addr=127.0.0.1:${await freePort()}`, `--health-addr=127.0.0.1:${health}`];
      const proc = cluster.processes.start(name, binary, [...ports, '--log-level=error', ...qps, ...flags], env);
      controllers.push(proc);
      await waitFor(
        `${name} to answer /readyz`,
        async () => ((await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => undefined))?.ok ? true : undefined),
        60_000,
        cluster.processes.failOnExit(proc),
      );
      return proc;
    };
    fs.mkdirSync(path.join(stateDir, 'artifacts'));
    const source = await start('source-controller', flux.sourceController, [
      `--storage-path=${path.join(stateDir, 'artifacts')}`,
      `--storage-addr=${storage}`,
      `--storage-adv-addr=${storage}`,
    ]);
    const kustomize = await start('kustomize-controller', flux.kustomizeController, []);
    log(`${flux.version} running (pids ${source.child.pid}, ${kustomize.child.pid}); logs in ${path.dirname(source.logFile)}`);
    const controllerCpu = () => processCpuSeconds(source.child.pid!) + processCpuSeconds(kustomize.child.pid!);

    const objects = new Map<string, KubeObject>();
    const seenAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const watching = new AbortController();
    void inform({ kube, resource: kustomizations, namespace, signal: watching.signal, log: (msg, f) => console.error(msg, f) }, (type, k) => {
      if (type === 'DELETED') return;
      objects.set(k.metadata.name, k);
      seenAt.set(k.metadata.name, Date.now());
      if (!readyAt.has(k.metadata.name) && fluxReady(k)) readyAt.set(k.metadata.name, Date.now());
    });

    const { gitRepository, kustomizations: items } = fluxManifests({ namespace, repoUrl: git.url, branch, apps });
    const cpu0 = [controllerCpu(), cpuByProgram()] as const;
    const started = Date.now();
    await kube.create(gitRepositories, namespace, gitRepository);
    await inBatches(items, 50, (k) => kube.create(kustomizations, namespace, k));
    while (readyAt.size < apps) {
      await new Promise((r) => setTimeout(r, 1000));
      process.stdout.write(`\r  Flux: ${readyAt.size}/${apps} Ready after ${seconds(Date.now() - started)}   `);
      if (Date.now() - started > 30 * 60_000) throw new Error('Flux: gave up after 30 minutes');
    }
    console.log('');
    const firstSyncMs = Math.max(...readyAt.values()) - started;
    const cpu1 = [controllerCpu(), cpuByProgram()] as const;

    // The no-op pass: the source re-read and every Kustomization asked to reconcile, nothing to change.
    const token = new Date().toISOString();
    const patch = { metadata: { annotations: { [REQUESTED_AT]: token } } };
    const passStarted = Date.now();
    await kube.patch(gitRepositories, namespace, gitRepository.metadata.name, patch);
    await inBatches(items, 100, (k) => kube.patch(kustomizations, namespace, k.metadata.name, patch));
    let lastHandled = 0;
    for (let handled = 0; handled < apps;) {
      await new Promise((r) => setTimeout(r, 200));
      handled = 0;
      for (const k of objects.values()) {
        if (k.status?.lastHandledReconcileAt !== token) continue;
        handled++;
        lastHandled = Math.max(lastHandled, seenAt.get(k.metadata.name) ?? 0);
      }
      if (Date.now() - passStarted > 10 * 60_000) throw new Error('Flux: the reconcile pass gave up after 10 minutes');
    }
    const passMs = lastHandled - passStarted;
    const cpu2 = [controllerCpu(), cpuByProgram()] as const;
    watching.abort();
    const notReady = [...objects.values()].filter((k) => !fluxReady(k)).length;
    if (notReady) throw new Error(`Flux: ${notReady} Kustomizations not Ready after the pass`);
    const applied = (await kube.list(Resources.configMap, namespace)).items.filter((c) => /^cm-\d+$/.test(c.metadata.name)).length;
    if (applied !== apps) throw new Error(`Flux: ${applied} of the ${apps} ConfigMaps exist`);
    log(`git served ${git.requests} requests`);
    return {
      firstSyncMs,
      passMs,
      controllerCpu: { sync: cpu1[0] - cpu0[0], pass: cpu2[0] - cpu1[0] },
      allCpu: { sync: sum(cpu0[1], cpu1[1], () => true), pass: sum(cpu1[1], cpu2[1], () => true) },
      residentMiB: { source: residentMiB(source.child.pid!), kustomize: residentMiB(kustomize.child.pid!) },
    };
  } catch (err) {
    // The logs go with the state folder: what the controllers said is shown here.
    for (const c of controllers) console.error(`--- last lines of ${c.name}'s log:\n${fs.readFileSync(c.logFile, 'utf8').slice(-3000)}`);
    throw err;
  } finally {
    await cluster.stop();
    await git.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The applications' folders committed into a new repository; returns its branch. */
function writeRepository(dir: string, apps: number, manifest: (i: number) => string): string {
  for (let i = 0; i < apps; i++) {
    fs.mkdirSync(path.join(dir, `app-${i}`), { recursive: true });
    fs.writeFileSync(path.join(dir, `app-${i}`, 'configmap.yaml'), manifest(i));
  }
  const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
  const git = (args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  git(['init', '--quiet', '--initial-branch=main']);
  git(['add', '-A']);
  git(['commit', '--quiet', '-m', 'bench']);
  return git(['symbolic-ref', '--short', 'HEAD']);
}
