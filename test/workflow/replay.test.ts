// Replays recorded workflow histories against today's workflow code. A change that
// would break workflows already running in production (non-determinism) fails here.
// Record new fixtures with SLUICE_RECORD_HISTORIES=1 npm test -- workflow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { prebuiltBundlePath } from '../../worker/worker';
import { repoRoot } from '../support/paths';

const dir = path.join(repoRoot, 'test', 'fixtures', 'histories');
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

test('there are recorded histories to replay', () => assert.ok(fixtures.length > 0));

for (const file of fixtures) {
  test(`replays ${file}`, async () => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: prebuiltBundlePath } }, history, file);
  });
}
