// Sluice for GitOps tests: in-process, scoped to one namespace, with short reconcile and
// hook timings so tests stay fast; and readers for an Application's status.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources } from '../../k8s/kube-client';
import type { ApplicationTimings } from '../../workflows/application';
import { configFromEnv } from '../../worker/config';
import { startSluice, type RunningSluice } from '../../cmd/process';
import { eventually, type TestStack } from './stack';

export async function startGitOpsSluice(stack: TestStack, namespace: string, timings: Partial<ApplicationTimings> = {}): Promise<RunningSluice> {
  // Each test process keeps its repository caches apart from the user's ~/.sluice.
  process.env.SLUICE_HOME ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-home-'));
  const config = {
    ...configFromEnv({}),
    temporalAddress: stack.temporalAddress,
    taskQueue: `sluice-${namespace}`,
    watchNamespace: namespace,
    apiPort: 0,
    applicationTimings: { reconcileMs: 60_000, jitterMs: 0, hookTimeoutMs: 60_000, waveTimeoutMs: 90_000, ...timings },
  };
  return startSluice(config, stack.sluiceKube ?? stack.kube, () => undefined);
}

export async function applicationStatus(stack: TestStack, namespace: string, name: string): Promise<any> {
  const app = await stack.kube.get(Resources.application, namespace, name);
  return app.status ?? {};
}

export function describeStatus(status: any): string {
  return JSON.stringify({
    sync: status.sync?.status,
    revision: status.sync?.revision?.slice(0, 7),
    health: status.health?.status,
    operation: status.operationState && { phase: status.operationState.phase, message: status.operationState.message },
    conditions: status.conditions,
  });
}

/** Waits until the Application's status passes `ok`; a timeout says what the status was. */
export async function waitForApplication(
  stack: TestStack,
  namespace: string,
  name: string,
  what: string,
  ok: (s: any) => boolean,
  timeoutMs = 60_000,
): Promise<any> {
  return eventually(
    `${name}: ${what}`,
    async () => {
      const s = await applicationStatus(stack, namespace, name);
      return ok(s) ? s : undefined;
    },
    timeoutMs,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, namespace, name))}`);
  });
}

type HistoryEvents = NonNullable<Awaited<ReturnType<ReturnType<RunningSluice['client']['workflow']['getHandle']>['fetchHistory']>>['events']>;

/**
 * The sync operations an Application workflow's history ran: each starts with a prepareSync
 * local activity inside the workflow (or, in runs started before `app-inline-sync`, a sync child).
 */
export function syncsInHistory(events: HistoryEvents): number {
  let syncs = 0;
  for (const e of events) {
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) syncs++;
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') continue;
    const data = marker.details?.data?.payloads?.[0]?.data;
    if (!data) continue;
    const type = (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
    if (type === 'prepareSync') syncs++;
  }
  return syncs;
}
