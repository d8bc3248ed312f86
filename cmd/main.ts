// Runs Sluice against the Temporal and Kubernetes named by the environment
// (TEMPORAL_ADDRESS, KUBECONFIG): the production entry point, also used by tests
// that kill and restart the worker.
import { KubeClient } from '../k8s/kube-client';
import { configFromEnv, DEFAULT_SHUTDOWN_GRACE_SECONDS } from '../worker/config';
import { jsonLog, startSluice } from './process';

async function main() {
  const config = configFromEnv();
  // A deployed process drains on SIGTERM (deploy/: terminationGracePeriodSeconds 60).
  const graceMs = (config.shutdownGraceMs ??= DEFAULT_SHUTDOWN_GRACE_SECONDS * 1000);
  const kube = KubeClient.fromKubeconfig(process.env.KUBECONFIG);
  const sluice = await startSluice(config, kube);
  // Never rejects, so a failed stop is logged like a failed start instead of escaping as an unhandled rejection.
  const stop = async (signal: NodeJS.Signals) => {
    jsonLog('sluice stopping: draining', { signal, graceSeconds: graceMs / 1000 });
    // The worker gives up at the grace; this is the last word if anything else hangs.
    setTimeout(() => {
      jsonLog('sluice did not stop within its grace period; exiting', { graceSeconds: graceMs / 1000 });
      process.exit(1);
    }, graceMs + 5_000).unref();
    let code = 0;
    try {
      await sluice.stop();
    } catch (err) {
      jsonLog('sluice failed to stop', { error: String((err as Error)?.stack ?? err) });
      code = 1;
    }
    kube.close();
    jsonLog('sluice stopped', { code });
    process.exit(code);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  jsonLog('sluice failed to start', { error: String(err?.stack ?? err) });
  process.exit(1);
});
