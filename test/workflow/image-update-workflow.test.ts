// The image update workflow against a real Temporal server with stubbed activities (the
// registry and git write-back are tested on their own against real servers): the seed's
// scenario (1.0.1 written once; rc and latest ignored; 1.2.0 written), a reverted write not
// repeated until the registry changes, a webhook nudge checking at once, a failed write
// retried on the next check, and a problem reported as one Event and as the ImageUpdateError
// condition, set once and cleared when the problem goes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { Worker } from '@temporalio/worker';
import type { ApplicationImageCheck, ImageActivities, ImageEventInput, WriteBackInput } from '../../activities/images/activities';
import { imageUpdateConfig } from '../../domain/images/annotations';
import { chooseTag, registryFingerprint } from '../../domain/images/selection';
import { prebuiltBundlePath } from '../../worker/worker';
import { imageUpdateNudgeSignal, imageUpdateStatusQuery } from '../../workflows/definitions';
import { imageUpdateWorkflow } from '../../workflows/image-update';
import { eventually } from '../support/stack';
import { repoRoot } from '../support/paths';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await testWorkflowEnvironment();
});
after(() => env?.teardown());

const P = 'argocd-image-updater.argoproj.io/';
const cfg = imageUpdateConfig({
  [`${P}image-list`]: 'api-tester=127.0.0.1:5000/api-tester, broken=127.0.0.1:5000/broken',
  [`${P}api-tester.allow-tags`]: 'regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$',
  [`${P}broken.update-strategy`]: 'newest',
  [`${P}write-back-method`]: 'git',
})!;

test('one write per new tag; rc and latest ignored; a revert is not fought; a failed write is retried; a problem is one Event', async () => {
  const taskQueue = `image-update-${Date.now()}`;
  const workflowId = 'image-update/argocd/api-tester';
  const registry = ['1.0.0'];
  let current = '1.0.0';
  let failNextWrite = false;
  const writes: WriteBackInput[] = [];
  const events: ImageEventInput[] = [];
  let checks = 0;
  let problems = cfg.problems;
  let liveCondition: string | undefined;
  const conditionWrites: (string | undefined)[] = [];
  const forgets: boolean[] = [];
  const activities: Partial<ImageActivities> = {
    async checkApplicationImages(_ref, opts): Promise<ApplicationImageCheck> {
      checks++;
      forgets.push(opts?.forgetTags ?? false);
      const spec = cfg.images[0]!;
      const choice = chooseTag(
        spec,
        registry.map((name) => ({ name })),
        Date.now(),
      );
      return {
        uid: 'uid-1',
        ...(liveCondition !== undefined ? { condition: liveCondition } : {}),
        problems,
        writeBack: 'git',
        images: [
          {
            alias: spec.alias,
            image: spec.image.name,
            strategy: spec.strategy,
            current,
            reason: choice.reason,
            chosen: { tag: choice.tag!.name },
            fingerprint: registryFingerprint(choice.tag!),
          },
        ],
      };
    },
    async writeBackImages(input) {
      if (failNextWrite) {
        failNextWrite = false;
        throw new Error('git push: remote unreachable');
      }
      writes.push(input);
      current = input.updates[0]!.tag;
      return { committed: true, commit: `c${writes.length}`, message: `committed c${writes.length}` };
    },
    async recordImageEvent(ev) {
      events.push(ev);
    },
    async setImageCondition(input) {
      conditionWrites.push(input.message);
      liveCondition = input.message;
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities,
  });
  await worker.runUntil(async () => {
    // A long interval: every check after the first is a nudge (as from a registry webhook).
    const handle = await env.client.workflow.start(imageUpdateWorkflow, {
      taskQueue,
      workflowId,
      args: [{ namespace: 'argocd', name: 'api-tester', intervalMs: 3_600_000 }],
    });
    const nudge = async () => {
      const before = checks;
      await handle.signal(imageUpdateNudgeSignal, { reason: 'webhook' });
      await eventually(
        'a check after the nudge',
        async () => checks > before && (await handle.query(imageUpdateStatusQuery)).lastCheckedAt !== undefined,
        10_000,
      );
      await new Promise((r) => setTimeout(r, 300));
    };
    try {
      await eventually('first check', async () => checks >= 1, 10_000);
      registry.push('1.0.1');
      await nudge();
      await eventually('1.0.1 written', async () => writes.length === 1, 10_000);
      registry.push('1.1.0-rc1', 'latest');
      await nudge();
      assert.equal(writes.length, 1, 'rc and latest are not taken');
      current = '1.0.0'; // someone reverts the commit in Git
      await nudge();
      assert.equal(writes.length, 1, 'a reverted write is not repeated without a registry change');
      registry.push('1.2.0');
      failNextWrite = true;
      await nudge(); // the write fails (activity retries: the second attempt succeeds)
      await eventually('1.2.0 written', async () => writes.length === 2, 20_000);
      assert.deepEqual(
        writes.map((w) => w.updates),
        [[{ alias: 'api-tester', tag: '1.0.1' }], [{ alias: 'api-tester', tag: '1.2.0' }]],
      );
      const status = await handle.query(imageUpdateStatusQuery);
      assert.equal(status.images[0]?.current, '1.0.0', 'the status shows what the last check read');
      const warnings = events.filter((e) => e.type === 'Warning');
      assert.equal(warnings.length, 1, 'the bad strategy is reported once');
      assert.match(warnings[0]!.message, /image broken: unknown update-strategy "newest"/);
      assert.equal(events.filter((e) => e.reason === 'ImagesUpdated').length, 2);
      assert.equal(forgets[0], false, 'the first check keeps what is remembered');
      assert.equal(forgets[1], true, 'a webhook nudge makes the next check re-read the tags');
      assert.equal(conditionWrites.length, 1, 'the condition is written once, not at every check');
      assert.match(liveCondition ?? '', /^image broken: unknown update-strategy "newest"/);
      problems = []; // the annotation is fixed
      await nudge();
      assert.deepEqual(conditionWrites.slice(1), [undefined], 'the condition is cleared once');
      if (process.env.SLUICE_RECORD_HISTORIES) {
        // Guards determinism: test/workflow/replay.test.ts replays it against today's code.
        fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'image-update.json'), historyToJSON(await handle.fetchHistory()));
      }
    } finally {
      await handle.terminate('test done');
    }
  });
});
