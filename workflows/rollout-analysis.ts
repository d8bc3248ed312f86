// What a rollout workflow calls to run an analysis: create the AnalysisRun object from
// its templates (an activity) and start its workflow as a child with the deterministic
// ID analysisrun/<ns>/<name>. The child is abandoned rather than terminated when the
// parent closes or continues as new, so an analysis survives the rollout's history
// rotation; a later call for the same analysis finds the same run.
import { ActivityFailure, ApplicationFailure, getExternalWorkflowHandle, ParentClosePolicy, proxyActivities, sleep, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AnalysisActivities, RolloutAnalysisInput } from '../activities/analysis';
import { analysisRunWorkflow } from './analysis-run';
import { analysisRunNudgeSignal, analysisRunWorkflowId } from './definitions';
import { isCompleted } from '../domain/analysis/types';

export type { RolloutAnalysisInput } from '../activities/analysis';

const act = proxyActivities<AnalysisActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

export interface RolloutAnalysisResult {
  phase: 'Successful' | 'Failed' | 'Error' | 'Inconclusive';
  message: string;
  runName: string;
}

export interface RolloutAnalysisHandle {
  runName: string;
  /** Resolves when the run completes. */
  result(): Promise<RolloutAnalysisResult>;
  /** Asks the run to stop; result() then resolves with its verdict so far. */
  terminate(): Promise<void>;
}

/** The analysis could not be started: a missing template, bad args, a refused object. */
export class RolloutAnalysisError extends Error {
  override name = 'RolloutAnalysisError';
}

/** While polling a run this workflow did not start (after continueAsNew). */
const POLL_MS = 2000;

export async function startRolloutAnalysis(input: RolloutAnalysisInput): Promise<RolloutAnalysisHandle> {
  let runName: string;
  try {
    runName = (await act.createRolloutAnalysisRun(input)).name;
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw new RolloutAnalysisError(err.cause.message);
    throw err;
  }
  const ref = { namespace: input.rollout.namespace, name: runName };
  const workflowId = analysisRunWorkflowId(ref);
  const terminate = () => getExternalWorkflowHandle(workflowId).signal(analysisRunNudgeSignal, { reason: 'terminated by rollout', terminate: true });
  try {
    const child = await startChild(analysisRunWorkflow, {
      workflowId,
      args: [ref],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `AnalysisRun ${ref.namespace}/${runName} (${input.kind} of rollout ${input.rollout.name})`,
    });
    return {
      runName,
      async result() {
        const outcome = await child.result();
        return { phase: completedPhase(outcome.phase), message: outcome.message, runName };
      },
      terminate,
    };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  // Already running (this rollout continued as new meanwhile): follow it through its object.
  return {
    runName,
    async result() {
      for (;;) {
        const o = await act.readAnalysisRunOutcome(ref);
        if (!o.exists) return { phase: 'Error', message: `AnalysisRun ${ref.namespace}/${runName} was deleted`, runName };
        if (isCompleted(o.phase)) return { phase: completedPhase(o.phase!), message: o.message, runName };
        await sleep(POLL_MS);
      }
    },
    terminate,
  };
}

function completedPhase(phase: string): RolloutAnalysisResult['phase'] {
  return phase === 'Successful' || phase === 'Failed' || phase === 'Inconclusive' ? phase : 'Error';
}
