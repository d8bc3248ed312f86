// Runs Sluice against the Temporal and Kubernetes named by the environment
// (TEMPORAL_ADDRESS, KUBECONFIG): the production entry point, also used by tests
// that kill and restart the worker.
import { KubeClient } from '../k8s/kube-client';
import { configFromEnv } from '../worker/config';
import { jsonLog, startSluice } from './process';

async function main() {
  const config = configFromEnv();
  const kube = KubeClient.fromKubeconfig(process.env.KUBECONFIG);
  const sluice = await startSluice(config, kube);
  // Never rejects, so a failed stop is logged like a failed start instead of escaping as an unhandled rejection.
  const stop = async () => {
    let code = 0;
    try {
      await sluice.stop();
    } catch (err) {
      jsonLog('sluice failed to stop', { error: String((err as Error)?.stack ?? err) });
      code = 1;
    }
    kube.close();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  jsonLog('sluice failed to start', { error: String(err?.stack ?? err) });
  process.exit(1);
});
