// Runs Sluice against the Temporal and Kubernetes named by the environment
// (TEMPORAL_ADDRESS, KUBECONFIG): the production entry point, also used by tests
// that kill and restart the worker.
import { KubeClient } from '../k8s/kube-client';
import { configFromEnv } from './config';
import { jsonLog, startSluice } from './sluice';

async function main() {
  const config = configFromEnv();
  const kube = KubeClient.fromKubeconfig(process.env.KUBECONFIG);
  const sluice = await startSluice(config, kube);
  const stop = async () => {
    await sluice.stop();
    kube.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  jsonLog('sluice failed to start', { error: String(err?.stack ?? err) });
  process.exit(1);
});
