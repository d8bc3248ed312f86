// What a long-lived workflow's earlier runs carried. The Application and Rollout workflows
// continue as new to bound their history; each new run starts with what the one before
// carried (sync history, revisions), so the inputs of the closed runs hold everything
// older than what the current run still carries, for as long as the namespace's retention
// keeps them. The chain is walked back through each run's first event
// (continuedExecutionRunId), one small read per run: no visibility query (whose index lags
// behind), and only this object's runs, not those of an earlier object of the same name.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/** Runs read at most per request: at 200 iterations a run, years of an active object. */
export const MAX_RUNS_READ = 500;

/**
 * The input each closed run of `workflowId`'s current chain started with, newest first
 * (the current run's own input excluded: the workflow's query gives its newer state).
 */
export async function closedRunInputs<T>(client: Client, workflowId: string, maxRuns = MAX_RUNS_READ): Promise<T[]> {
  const namespace = client.options.namespace;
  const first = async (runId: string) => {
    const page = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 });
    return page.history?.events?.[0]?.workflowExecutionStartedEventAttributes ?? undefined;
  };
  const inputs: T[] = [];
  let started = await first('');
  // The current run's input is what its predecessor carried when it closed.
  let previous = started?.continuedExecutionRunId;
  if (started?.input?.payloads?.[0] && previous) inputs.push(defaultPayloadConverter.fromPayload<T>(started.input.payloads[0]));
  for (let n = 0; previous && n < maxRuns; n++) {
    started = await first(previous);
    previous = started?.continuedExecutionRunId;
    // The first run of the chain started from nothing carried: its input adds nothing.
    if (started?.input?.payloads?.[0] && previous) inputs.push(defaultPayloadConverter.fromPayload<T>(started.input.payloads[0]));
  }
  return inputs;
}
