// One Sluice process: the Temporal worker, the watcher and the HTTP API, sharing one
// Kubernetes client and one Temporal connection. Several may run at once.
import { Client } from '@temporalio/client';
import { buildApi } from '../api/server';
import { ApplicationCommands } from '../api/application-commands';
import { registerGitWebhookRoutes } from '../api/routes/git-webhooks';
import { imageUpdateRoutes } from '../api/routes/image-updates';
import { applicationSetRoutes } from '../api/routes/applicationsets';
import { RolloutCommands } from '../api/rollout-commands';
import type { KubeClient } from '../k8s/kube-client';
import type { SluiceConfig } from '../worker/config';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { AnalysisWatcher } from '../worker/analysis-watcher';
import { Watcher } from '../worker/watcher';
import { ReplicaShards, unsharded, type Shards } from '../worker/replica-shards';
import { ExperimentWatcher } from '../worker/experiment-watcher';
import { ApplicationWatcher } from '../worker/application-watcher';
import { ApplicationSetWatcher } from '../worker/applicationset-watcher';
import { RolloutNotificationsWatcher } from '../worker/rollout-notifications-watcher';
import { createNotificationsWorker, createSluiceWorker, installRuntime, notificationsTaskQueue } from '../worker/worker';
import { openRunsQuery, WorkerOnDemand } from '../worker/on-demand-worker';
import { loggerFromEnv, type Log } from '../worker/logger';
import { connectClient, connectWorker, type TemporalSettings } from '../worker/temporal-connection';
import { createRolloutCache } from '../activities/rollout-cache';
import { createApplicationCache } from '../activities/application-cache';
import { notificationSends } from '../activities/notifications/metrics';
import { registry } from '../api/metrics';
import { signalCounter, temporalSignals } from '../worker/signal-metrics';

export interface RunningSluice {
  apiUrl: string;
  client: Client;
  stop(): Promise<void>;
}

export type { Log } from '../worker/logger';

/** The process's one logger (SLUICE_LOG_LEVEL, SLUICE_LOG_FORMAT); the Temporal SDK writes through it too. */
export const processLogger = loggerFromEnv();
export const jsonLog: Log = processLogger.log;

export async function startSluice(config: SluiceConfig, kube: KubeClient, log: Log = jsonLog): Promise<RunningSluice> {
  // Undo steps in the order things start; a start that fails half-way runs those it has,
  // so no worker or watcher outlives it.
  const stops: (() => Promise<unknown>)[] = [];
  // A drain runs first and together: the worker stops polling and finishes its in-flight
  // tasks while the API stops accepting and finishes its open requests. The watchers stop
  // after the worker (an activity still running reads the caches they feed), then the
  // connections. Each step runs once.
  const drains: (() => Promise<unknown>)[] = [];
  const once = (step: () => Promise<unknown>) => {
    let done: Promise<unknown> | undefined;
    return () => (done ??= step());
  };
  const stop = async () => {
    const failed = (err: unknown) => log('error while stopping', { error: String(err) });
    await Promise.all(drains.splice(0).map((step) => step().catch(failed)));
    // Each step runs even if an earlier one fails, so nothing is left behind.
    for (const step of stops.splice(0).reverse()) await step().catch(failed);
  };
  try {
    const temporal: TemporalSettings = {
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
      options: config.temporalConnection?.options ?? {},
      describe: config.temporalConnection?.describe ?? 'no TLS',
      addressConfigured: true,
    };
    const connection = await connectClient(temporal);
    stops.push(() => connection.close());
    // Notifications on a queue of their own, with few slots, and their Worker only once a
    // notifications workflow exists there (worker/on-demand-worker.ts); drained like the main worker.
    const notificationsQueue = notificationsTaskQueue(config.taskQueue);
    const notifications: WorkerOnDemand | undefined = config.notifications
      ? new WorkerOnDemand({
          taskQueue: notificationsQueue,
          create: () =>
            createNotificationsWorker({
              connection: workerConnection,
              namespace: config.temporalNamespace,
              taskQueue: notificationsQueue,
              kube,
              maxCachedWorkflows: config.maxCachedWorkflows,
              shutdownGraceMs: config.shutdownGraceMs,
            }),
          hasOpenRuns: async (): Promise<boolean> => (await client.workflow.count(openRunsQuery(notificationsQueue))).count > 0,
          log,
        })
      : undefined;
    const client: Client = new Client({
      connection,
      namespace: config.temporalNamespace,
      interceptors: { workflow: [signalCounter, ...(notifications ? [notifications.interceptor()] : [])] },
    });
    const useSearchAttributes = await ensureSearchAttributes(connection, config.temporalNamespace);
    if (!useSearchAttributes) log('search attributes unavailable; workflows start without them');

    // The watcher keeps this copy of Rollouts, ReplicaSets and Services; the activities read it.
    const rolloutCache = createRolloutCache(config.watchNamespace);
    // And this one of Applications and the objects they track.
    const applicationCache = createApplicationCache(config.watchNamespace);
    installRuntime(processLogger.temporal);
    const workerConnection = await connectWorker(temporal);
    stops.push(() => workerConnection.close());
    const worker = await createSluiceWorker({
      connection: workerConnection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      kube,
      maxCachedWorkflows: config.maxCachedWorkflows,
      rolloutCache,
      applicationCache,
      shutdownGraceMs: config.shutdownGraceMs,
    });
    const workerRun = worker.run();
    const drainWorker = once(async () => {
      if (worker.getState() === 'RUNNING') {
        log('worker draining: no new tasks, in-flight ones finish', { graceSeconds: (config.shutdownGraceMs ?? 0) / 1000 });
        worker.shutdown();
      }
      await workerRun;
      log('worker drained');
    });
    stops.push(drainWorker);
    drains.push(drainWorker);
    if (notifications) {
      const drainNotifications = once(() => notifications.drain());
      stops.push(drainNotifications);
      drains.push(drainNotifications);
      await notifications.begin();
    }

    // Replicas share out who signals which workflow, so N of them do not signal N times.
    let shards: Shards = unsharded;
    if (config.replicaShards !== false) {
      const replicaShards = new ReplicaShards({ kube, namespace: config.sluiceNamespace, taskQueue: config.taskQueue, log, replicaId: config.replicaId });
      await replicaShards.start();
      stops.push(() => replicaShards.stop());
      shards = replicaShards;
    }
    // What every watcher shares: the clients, the namespace it watches, and the shards that
    // say which objects this replica signals.
    const watching = { kube, client, taskQueue: config.taskQueue, namespace: config.watchNamespace, useSearchAttributes, log, shards };
    const run = (watcher: { start(): void; stop(): Promise<unknown> | void }) => {
      watcher.start();
      stops.push(async () => watcher.stop());
    };
    run(new Watcher({ ...watching, cache: rolloutCache }));
    run(
      new ApplicationWatcher({
        ...watching,
        timings: config.applicationTimings,
        cache: applicationCache,
        notifications: config.notifications,
        notificationsTaskQueue: notificationsQueue,
        ...(config.notificationsDeferral ? { notificationsDeferral: config.notificationsDeferral } : {}),
        ...(config.imageUpdates ? { imageUpdates: config.imageUpdates } : {}),
      }),
    );
    run(new ApplicationSetWatcher(watching));
    if (config.notifications) run(new RolloutNotificationsWatcher({ ...watching, taskQueue: notificationsQueue }));
    run(new AnalysisWatcher(watching));
    run(new ExperimentWatcher({ kube, namespace: config.watchNamespace, log }));

    // Counted by the send activities; several Sluices in one test process share the registry.
    if (!registry.getSingleMetric('sluice_notification_sends_total')) registry.registerMetric(notificationSends);
    if (!registry.getSingleMetric('sluice_temporal_signals_total')) registry.registerMetric(temporalSignals);
    const api = buildApi({
      kube,
      commands: new RolloutCommands(client),
      applications: new ApplicationCommands(client),
      sluiceNamespace: config.sluiceNamespace,
      dashboard: { temporalUiUrl: config.temporalUiUrl, temporalNamespace: config.temporalNamespace },
      log,
      routes: [registerGitWebhookRoutes, applicationSetRoutes(client, config.taskQueue), imageUpdateRoutes(client)],
      // /readyz fails while this replica cannot reach Temporal or the Kubernetes API server.
      readiness: {
        temporal: () => connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({})),
        kubernetes: () => kube.request('GET', '/version'),
      },
    });
    // Fastify's close stops listening, answers 503 on kept-alive connections, ends the
    // event streams (api/routes/stream.ts) and waits for the requests in progress.
    const closeApi = once(async () => {
      // A connection kept alive after its last answer (an ended stream, a request that
      // finished during the drain) would hold the close for Node's keep-alive timeout.
      const closeIdle = setInterval(() => api.server.closeIdleConnections(), 100);
      try {
        await api.close();
      } finally {
        clearInterval(closeIdle);
      }
    });
    stops.push(closeApi);
    drains.push(closeApi);
    const address = await api.listen({ host: config.apiHost, port: config.apiPort });
    log('sluice running', { api: address, taskQueue: config.taskQueue, temporal: config.temporalAddress });
    return { apiUrl: address, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
