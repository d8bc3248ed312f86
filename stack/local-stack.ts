// The embedded default stack behind `npm start` and the tests: Temporal dev server,
// local control plane and Prometheus, each skipped when the environment points at a
// real one (TEMPORAL_ADDRESS, KUBECONFIG).
import * as path from 'node:path';
import { KubeClient } from '../k8s/kube-client';
import { installCrds } from '../k8s/install-crds';
import { startLocalCluster, type LocalCluster } from './local-cluster';
import { DEFAULT_STACK_PORTS, type StackPorts } from './ports';
import { startPrometheus, type LocalPrometheus } from './prometheus';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server';
import { ensurePrometheus, ensureTools } from './toolchain';

export interface LocalStackOptions {
  stateDir: string;
  /** npm start uses the well-known ports (or `ports`); tests take free ones. */
  fixedPorts: boolean;
  ports?: StackPorts;
  /** Reuse these instead of starting our own. */
  kubeconfig?: string;
  temporalAddress?: string;
  prometheus?: boolean;
  headless?: boolean;
  etcdNoFsync?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  kubeconfigPath: string;
  kube: KubeClient;
  temporalAddress: string;
  temporalUiUrl?: string;
  prometheusUrl?: string;
  kubectl: string;
  cluster?: LocalCluster;
  temporal?: TemporalDevServer;
  prometheusServer?: LocalPrometheus;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const ports = opts.fixedPorts ? (opts.ports ?? DEFAULT_STACK_PORTS) : undefined;
  const tools = await ensureTools(log);
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  try {
    let temporal: TemporalDevServer | undefined;
    const temporalAddress =
      opts.temporalAddress ??
      (temporal = await startTemporalDevServer({
        temporalBinary: tools.temporal,
        stateDir: path.join(opts.stateDir, 'temporal'),
        port: ports?.temporal,
        uiPort: ports?.temporalUi,
        headless: opts.headless,
        log,
      })).address;
    if (temporal) stoppers.push(() => temporal!.stop());

    let cluster: LocalCluster | undefined;
    let kube: KubeClient;
    let kubeconfigPath: string;
    if (opts.kubeconfig) {
      kubeconfigPath = opts.kubeconfig;
      kube = KubeClient.fromKubeconfig(kubeconfigPath);
    } else {
      cluster = await startLocalCluster({
        stateDir: path.join(opts.stateDir, 'kubernetes'),
        tools,
        apiserverPort: ports?.kubeApiserver,
        etcdPort: ports?.etcd,
        etcdNoFsync: opts.etcdNoFsync,
        log,
      });
      stoppers.push(() => cluster!.stop());
      kubeconfigPath = cluster.kubeconfigPath;
      kube = cluster.kube;
    }
    const crds = await installCrds(kube);
    log(`installed ${crds.length} CRDs`);

    let prometheusServer: LocalPrometheus | undefined;
    if (opts.prometheus) {
      const binary = await ensurePrometheus(log);
      prometheusServer = await startPrometheus({ binary, stateDir: path.join(opts.stateDir, 'prometheus'), port: ports?.prometheus, log });
      stoppers.push(() => prometheusServer!.stop());
    }
    return {
      kubeconfigPath,
      kube,
      temporalAddress,
      temporalUiUrl: temporal?.uiUrl,
      prometheusUrl: prometheusServer?.url,
      kubectl: tools.kubectl,
      cluster,
      temporal,
      prometheusServer,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
