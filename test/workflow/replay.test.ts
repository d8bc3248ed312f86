// Replays recorded workflow histories against today's workflow code. A change that
// would break workflows already running in production (non-determinism) fails here, and
// so does a workflow type the worker registers with no recorded history to guard it.
// Record fresh fixtures with `SLUICE_RECORD_HISTORIES=1 node dist/test/run.js workflow`
// (see README.md, "Changing workflow code", for when an old fixture may go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import * as registered from '../../workflows';
import { prebuiltBundlePath } from '../../worker/worker';
import { repoRoot } from '../support/paths';

const dir = path.join(repoRoot, 'test', 'fixtures', 'histories');
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
const histories = fixtures.map((file) => ({ file, history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))) }));

const workflowTypeOf = (h: (typeof histories)[number]['history']) => h.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;

test('every workflow type the worker registers has a recorded history', () => {
  const types = Object.keys(registered).filter((k) => typeof (registered as Record<string, unknown>)[k] === 'function');
  assert.ok(types.length > 0, 'workflows/index.ts exports workflows');
  const recorded = new Set(histories.map((h) => workflowTypeOf(h.history)));
  assert.deepEqual(
    types.filter((t) => !recorded.has(t)),
    [],
    'record one for each (SLUICE_RECORD_HISTORIES=1) so that a change to it is replayed against a real run',
  );
});

test('every fixture is a history of a registered workflow type', () => {
  const unknown = histories.filter((h) => !(workflowTypeOf(h.history)! in registered)).map((h) => `${h.file}: ${workflowTypeOf(h.history)}`);
  assert.deepEqual(unknown, []);
});

for (const { file, history } of histories) {
  test(`replays ${file}`, async () => {
    await Worker.runReplayHistory({ workflowBundle: { codePath: prebuiltBundlePath } }, history, file);
  });
}
