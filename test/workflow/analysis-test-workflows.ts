// Workflows for the rollout-analysis test only: the AnalysisRun workflow, and a tiny
// stand-in for the rollout workflow that starts an analysis the way a rollout does.
import { sleep } from '@temporalio/workflow';
import { RolloutAnalysisError, startRolloutAnalysis, type RolloutAnalysisInput, type RolloutAnalysisResult } from '../../workflows/rollout-analysis';

export { analysisRunWorkflow } from '../../workflows/analysis-run';

export async function rolloutAnalysisProbe(input: RolloutAnalysisInput, terminateAfterMs?: number): Promise<RolloutAnalysisResult | { error: string }> {
  try {
    const handle = await startRolloutAnalysis(input);
    if (terminateAfterMs !== undefined) {
      await sleep(terminateAfterMs);
      await handle.terminate();
    }
    return await handle.result();
  } catch (err) {
    if (err instanceof RolloutAnalysisError) return { error: err.message };
    throw err;
  }
}

/** A rollout that asks for the same analysis twice (as after continueAsNew): both handles see one run. */
export async function rolloutAnalysisTwice(input: RolloutAnalysisInput): Promise<RolloutAnalysisResult[]> {
  const first = await startRolloutAnalysis(input);
  const second = await startRolloutAnalysis(input);
  return Promise.all([first.result(), second.result()]);
}
