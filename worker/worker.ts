// The Temporal workers: Sluice's workflows and activities on one task queue, and the
// notifications on one of their own.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NativeConnection, Runtime, Worker, type Logger } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { KubeClient } from '../k8s/kube-client';
import type { ApplicationCache } from '../activities/application-cache';
import type { RolloutCache } from '../activities/rollout-cache';
import { bundleSluiceWorkflows } from './workflow-code';

/** Built by scripts/prepare.js, so a worker starts without bundling workflows again. */
export const prebuiltBundlePath = path.resolve(__dirname, '..', 'workflow-bundle.js');

/**
 * The process decides when the worker stops (after the API and the watcher), so the
 * SDK must not react to SIGINT itself. Must run before the first NativeConnection.
 */
export function installRuntime(logger?: Logger): void {
  try {
    // With Sluice's logger, the SDK's lines come out in the process's one format and level.
    Runtime.install({ shutdownSignals: [], ...(logger ? { logger } : {}) });
  } catch {
    // Already installed in this process (several Sluices in one test process).
  }
}

function envCount(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export async function createSluiceWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  kube: KubeClient;
  maxCachedWorkflows: number;
  rolloutCache?: RolloutCache;
  applicationCache?: ApplicationCache;
  /** How long a shutdown drains in-flight tasks (see SluiceConfig.shutdownGraceMs); 0 cancels them at once. */
  shutdownGraceMs?: number;
}): Promise<Worker> {
  const workflowSource = await workflowCode();
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflowSource,
    activities: createActivities(opts.kube, opts.rolloutCache, opts.applicationCache),
    // Idle rollouts are evicted and replayed on demand, so memory is bounded by the
    // cache, not by the number of objects.
    maxCachedWorkflows: opts.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: 200,
    // A workflow task stays open (holding a slot) while its local activities run; these
    // limits can be raised for many concurrent AnalysisRuns (defaults unchanged).
    maxConcurrentWorkflowTaskExecutions: envCount('SLUICE_MAX_CONCURRENT_WORKFLOW_TASKS', 100),
    maxConcurrentLocalActivityExecutions: envCount('SLUICE_MAX_CONCURRENT_LOCAL_ACTIVITIES', 100),
    // A dead worker's sticky queue holds tasks this long before any worker may take them
    // (the SDK's default; less than the 15 s lease an Argo controller's standby waits out).
    // At 3 s, a burst of a thousand refreshes on a busy worker had two thirds of its tasks
    // time out there and be sent again with their whole history: the no-op pass took
    // 17-25 s in six runs at 3 s and 13.6-13.7 s in two at 10 s (NOTES § Benchmarks).
    stickyQueueScheduleToStartTimeout: `${envCount('SLUICE_STICKY_QUEUE_TIMEOUT_SECONDS', 10)}s`,
    // On shutdown the worker stops polling at once and lets in-flight tasks finish; an
    // activity still running at 80% of the grace is cancelled (its attempt fails and is
    // retried by another replica), and at the full grace the worker gives up waiting,
    // so the process exits before the kubelet's SIGKILL.
    ...drainOptions(opts.shutdownGraceMs),
  });
}

/** The prebuilt workflow bundle when there is one (npm run build), else the same bundle, built at start. */
async function workflowCode(): Promise<{ workflowBundle: { codePath: string } | { code: string } }> {
  return { workflowBundle: fs.existsSync(prebuiltBundlePath) ? { codePath: prebuiltBundlePath } : { code: await bundleSluiceWorkflows() } };
}

/** A shutdown finishes in-flight tasks for most of the grace, then cancels what is left (another replica retries it). */
function drainOptions(graceMs: number | undefined): { shutdownGraceTime?: number; shutdownForceTime?: number } {
  return graceMs ? { shutdownGraceTime: Math.round(graceMs * 0.8), shutdownForceTime: graceMs } : {};
}

/** Notifications run on a task queue of their own (see createNotificationsWorker). */
export const notificationsTaskQueue = (taskQueue: string): string => `${taskQueue}-notifications`;

/**
 * The worker of the notifications task queue: the notifications workflows and their sends,
 * apart from the syncs and rollouts, with few slots, so that a burst of notifications never
 * holds the main queue's slots and never queues behind a burst of syncs either.
 */
export async function createNotificationsWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  kube: KubeClient;
  maxCachedWorkflows: number;
  shutdownGraceMs?: number;
}): Promise<Worker> {
  const workflowSource = await workflowCode();
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflowSource,
    activities: createActivities(opts.kube),
    maxCachedWorkflows: opts.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: envCount('SLUICE_NOTIFICATIONS_WORKFLOW_TASKS', 4),
    maxConcurrentLocalActivityExecutions: envCount('SLUICE_NOTIFICATIONS_WORKFLOW_TASKS', 4),
    // Sends wait on receivers, not on this process.
    maxConcurrentActivityTaskExecutions: envCount('SLUICE_NOTIFICATIONS_SENDS', 20),
    stickyQueueScheduleToStartTimeout: '3s',
    ...drainOptions(opts.shutdownGraceMs),
  });
}
