// The Temporal server a workflow test runs against: the suite's shared one when the runner
// names it, else a dev server of the test's own (the toolchain's binary).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTools } from '../../stack/toolchain';

export async function testWorkflowEnvironment(): Promise<TestWorkflowEnvironment> {
  const address = process.env.SLUICE_TEST_TEMPORAL_ADDRESS;
  return address
    ? await TestWorkflowEnvironment.createFromExistingServer({ address })
    : await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: (await ensureTools(() => undefined)).temporal } } });
}
