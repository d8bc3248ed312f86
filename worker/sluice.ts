// One Sluice process: the Temporal worker, the watcher and the HTTP API, sharing one
// Kubernetes client and one Temporal connection. Several may run at once.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { buildApi } from '../api/server';
import { ApplicationCommands } from '../api/application-commands';
import { registerGitWebhookRoutes } from '../api/routes/git-webhooks';
import { RolloutCommands } from '../api/rollout-commands';
import type { KubeClient } from '../k8s/kube-client';
import type { SluiceConfig } from './config';
import { ensureSearchAttributes } from './search-attributes';
import { AnalysisWatcher } from './analysis-watcher';
import { Watcher } from './watcher';
import { ApplicationWatcher } from './application-watcher';
import { createSluiceWorker, installRuntime } from './worker';
import { createRolloutCache } from '../activities/rollout-cache';
import { createApplicationCache } from '../activities/application-cache';

export interface RunningSluice {
  apiUrl: string;
  client: Client;
  stop(): Promise<void>;
}

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export const jsonLog: Log = (msg, fields) => console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));

export async function startSluice(config: SluiceConfig, kube: KubeClient, log: Log = jsonLog): Promise<RunningSluice> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const useSearchAttributes = await ensureSearchAttributes(connection, config.temporalNamespace);
  if (!useSearchAttributes) log('search attributes unavailable; workflows start without them');

  // The watcher keeps this copy of Rollouts, ReplicaSets and Services; the activities read it.
  const rolloutCache = createRolloutCache(config.watchNamespace);
  // And this one of Applications and the objects they track.
  const applicationCache = createApplicationCache(config.watchNamespace);
  installRuntime();
  const workerConnection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createSluiceWorker({
    connection: workerConnection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    kube,
    maxCachedWorkflows: config.maxCachedWorkflows,
    rolloutCache,
    applicationCache,
  });
  const workerRun = worker.run();

  const watcher = new Watcher({ kube, client, taskQueue: config.taskQueue, namespace: config.watchNamespace, useSearchAttributes, log, cache: rolloutCache });
  watcher.start();
  const applicationWatcher = new ApplicationWatcher({ kube, client, taskQueue: config.taskQueue, namespace: config.watchNamespace, useSearchAttributes, timings: config.applicationTimings, log, cache: applicationCache });
  applicationWatcher.start();
  const analysisWatcher = new AnalysisWatcher({ kube, client, taskQueue: config.taskQueue, namespace: config.watchNamespace, useSearchAttributes, log });
  analysisWatcher.start();

  const api = buildApi({ kube, commands: new RolloutCommands(client), applications: new ApplicationCommands(client), sluiceNamespace: config.sluiceNamespace, log, routes: [registerGitWebhookRoutes] });
  const address = await api.listen({ host: config.apiHost, port: config.apiPort });
  log('sluice running', { api: address, taskQueue: config.taskQueue, temporal: config.temporalAddress });

  return {
    apiUrl: address,
    client,
    async stop() {
      // Each step runs even if an earlier one fails, so nothing is left behind.
      const steps: (() => Promise<unknown>)[] = [
        () => api.close(),
        () => watcher.stop(),
        () => applicationWatcher.stop(),
        () => analysisWatcher.stop(),
        async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await workerRun;
        },
        () => workerConnection.close(),
        () => connection.close(),
      ];
      for (const step of steps) await step().catch((err) => log('error while stopping', { error: String(err) }));
    },
  };
}
