// The local stack keeps closed runs (finished syncs, continued-as-new rollout runs,
// AnalysisRuns) for 90 days by default, not the dev server's one day.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '@temporalio/client';
import { DEFAULT_RETENTION_DAYS, retentionDaysFromEnv } from '../../stack/temporal-dev-server';
import { testStack, type TestStack } from '../support/stack';

let stack: TestStack;
before(async () => {
  stack = await testStack();
});
after(async () => stack?.stop());

test("the stack's Temporal namespace keeps closed runs for at least 90 days", async () => {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
    const seconds = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    assert.ok(seconds >= 90 * 86_400, `retention is ${seconds / 86_400} days`);
  } finally {
    await connection.close();
  }
});

test('SLUICE_TEMPORAL_RETENTION_DAYS sets it; nonsense falls back to 90', () => {
  assert.equal(retentionDaysFromEnv({ SLUICE_TEMPORAL_RETENTION_DAYS: '400' }), 400);
  assert.equal(retentionDaysFromEnv({ SLUICE_TEMPORAL_RETENTION_DAYS: 'x' }), DEFAULT_RETENTION_DAYS);
  assert.equal(retentionDaysFromEnv({}), 90);
});
