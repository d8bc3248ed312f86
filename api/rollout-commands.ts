// Rollout commands as Temporal Updates on the rollout's workflow. The workflow's
// validator decides whether a command makes sense now ("not paused"), so every
// client (HTTP API, CLI, watcher) gets the same answer.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { promoteUpdate, rolloutViewQuery, rolloutWorkflowId, type CommandResult, type RolloutRef, type RolloutView } from '../workflows/definitions';

export class CommandRefused extends Error {
  constructor(
    readonly code: 'NotFound' | 'FailedPrecondition',
    message: string,
  ) {
    super(message);
  }
}

async function translate<T>(ref: RolloutRef, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CommandRefused('NotFound', `rollout ${ref.namespace}/${ref.name} is not managed by Sluice (no workflow ${rolloutWorkflowId(ref)})`);
    if (err instanceof WorkflowUpdateFailedError) throw new CommandRefused('FailedPrecondition', err.cause?.message ?? err.message);
    // A validator's refusal surfaces as a failure whose message is the refusal itself.
    const message = (err as { cause?: { message?: string } }).cause?.message;
    if (message) throw new CommandRefused('FailedPrecondition', message);
    throw err;
  }
}

export class RolloutCommands {
  constructor(private readonly client: Client) {}

  promote(ref: RolloutRef, full = false): Promise<CommandResult> {
    return translate(ref, () => this.client.workflow.getHandle(rolloutWorkflowId(ref)).executeUpdate(promoteUpdate, { args: [{ full }] }));
  }

  view(ref: RolloutRef): Promise<RolloutView> {
    return translate(ref, () => this.client.workflow.getHandle(rolloutWorkflowId(ref)).query(rolloutViewQuery));
  }
}
