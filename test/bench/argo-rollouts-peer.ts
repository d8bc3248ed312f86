// Argo Rollouts' own controller as the peer of a bench (BENCH_PEER=argo-rollouts): a fresh
// local control plane of the same kind Sluice's benches get (same binaries, etcd without
// fsync) but with no Temporal server, no Sluice and none of Sluice's CRDs — Argo's CRDs of
// the same release instead — and rollouts-controller watching one namespace.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Resources, type KubeClient } from '../../k8s/kube-client';
import { waitFor } from '../../k8s/wait';
import { startLocalCluster } from '../../stack/local-cluster';
import { freePort, type ManagedProcess } from '../../stack/process-group';
import { ensureArgoRolloutsController, ensureTools } from '../../stack/toolchain';

/** The peers a bench can run beside Sluice; only Argo Rollouts builds here for now. */
export function peerFromEnv(): 'argo-rollouts' | undefined {
  const peer = process.env.BENCH_PEER;
  if (!peer) return undefined;
  if (peer !== 'argo-rollouts') throw new Error(`BENCH_PEER=${peer}: the only peer is argo-rollouts`);
  return peer;
}

/** Client rate limits the controller is run at: as shipped (40 requests/s, burst 80), and raised. */
export interface RateLimit {
  label: string;
  /** A table column's heading. */
  column: string;
  qps?: number;
  burst?: number;
}
export const SHIPPED: RateLimit = { label: 'shipped rate limit (qps 40, burst 80)', column: 'Argo, shipped' };
export const RAISED: RateLimit = { label: '--qps=1000 --burst=2000', column: 'Argo, qps 1000', qps: 1000, burst: 2000 };

export interface ArgoRolloutsPeer {
  kube: KubeClient;
  controller: ManagedProcess;
  version: string;
  /** The controller's flags, less the kubeconfig and ports. */
  flags: string[];
  stop(): Promise<void>;
}

export async function startArgoRolloutsPeer(namespace: string, limit: RateLimit = SHIPPED): Promise<ArgoRolloutsPeer> {
  const log = (l: string) => console.error(`[peer] ${l}`);
  const [tools, argo] = await Promise.all([ensureTools(log), ensureArgoRolloutsController(log)]);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-peer-'));
  const cluster = await startLocalCluster({ stateDir: path.join(stateDir, 'kubernetes'), tools, etcdNoFsync: true, log });
  const stop = async () => {
    await cluster.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const kube = cluster.kube;
    await installCrds(kube, argo.crdsDir);
    await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const flags = [
      `--namespace=${namespace}`,
      '--namespaced',
      '--leader-elect=false',
      // Sluice's benches discard Sluice's log; warnings and errors are still written.
      '--loglevel=warn',
      ...(limit.qps ? [`--qps=${limit.qps}`] : []),
      ...(limit.burst ? [`--burst=${limit.burst}`] : []),
    ];
    const ports = [`--metricsPort=${await freePort()}`, `--healthzPort=${await freePort()}`];
    // POD_NAMESPACE: where it looks for its notification ConfigMap (there is none).
    const controller = cluster.processes.start('rollouts-controller', argo.binary, [`--kubeconfig=${cluster.kubeconfigPath}`, ...ports, ...flags], {
      ...process.env,
      POD_NAMESPACE: namespace,
    });
    const healthz = ports[1].split('=')[1];
    await waitFor(
      'rollouts-controller to answer /healthz',
      async () => ((await fetch(`http://127.0.0.1:${healthz}/healthz`)).ok ? true : undefined),
      60_000,
      cluster.processes.failOnExit(controller),
    );
    log(`Argo Rollouts controller ${argo.version} running (pid ${controller.child.pid}) ${flags.join(' ')}; log ${controller.logFile}`);
    return { kube, controller, version: argo.version, flags, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Creates the CRDs of a folder's YAML files and waits until each is established. */
export async function installCrds(kube: KubeClient, dir: string): Promise<void> {
  const crds = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { metadata: { name: string } });
  for (const crd of crds) await kube.create(Resources.crd, undefined, crd);
  for (const crd of crds)
    await waitFor(
      `CRD ${crd.metadata.name} established`,
      async () => {
        const live = await kube.get(Resources.crd, undefined, crd.metadata.name);
        return live.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      },
      30_000,
    );
}
