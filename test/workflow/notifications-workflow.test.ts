// The notifications workflow against a real Temporal server with stubbed activities: a
// firing is sent once per recipient however often the Application changes while the
// condition holds; a receiver failing three times gets the message once, on the fourth
// attempt, with the same idempotency key each time; a refused send is not retried and
// becomes one Event; a recipient that fails never makes another receive a duplicate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { Worker } from '@temporalio/worker';
import type { NotificationActivities, NotificationFailure, RolloutNotificationSubject, SendNotificationInput } from '../../activities/notifications/activities';
import { ROLLOUTS_CATALOG } from '../../domain/notifications/rollout-catalog';
import type { RolloutObservation } from '../../domain/notifications/rollout-events';
import { rolloutNotificationsWorkflow } from '../../workflows/rollout-notifications';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { subscriptionsFor } from '../../domain/notifications/subscriptions';
import { prebuiltBundlePath } from '../../worker/worker';
import { notificationsNudgeSignal } from '../../workflows/definitions';
import { notificationsWorkflow } from '../../workflows/notifications';
import { eventually } from '../support/stack';
import { repoRoot } from '../support/paths';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await testWorkflowEnvironment();
});
after(() => env?.teardown());

const cfg = parseNotificationConfig({
  'trigger.on-deployed': "- when: app.status.operationState.phase in ['Succeeded']\n  oncePer: app.status.sync.revision\n  send: [t]",
  'trigger.on-sync-failed': "- when: app.status.operationState.phase in ['Error', 'Failed']\n  send: [t]",
  'template.t': 'message: x',
});

function appAt(phase: string, revision: string) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'web',
      namespace: 'argocd',
      uid: 'uid-1',
      annotations: {
        'notifications.argoproj.io/subscribe.on-deployed.hook': 'a;b',
        'notifications.argoproj.io/subscribe.on-sync-failed.hook': 'a;refused',
      },
    },
    status: { sync: { revision }, operationState: { phase } },
  };
}

interface Stubs {
  sends: SendNotificationInput[];
  failures: NotificationFailure[];
  set: (phase: string, revision: string) => void;
}

function stubs(failFirst: Record<string, number>): Stubs & { activities: Partial<NotificationActivities> } {
  let app = appAt('Running', 'r1');
  const sends: SendNotificationInput[] = [];
  const failures: NotificationFailure[] = [];
  const attempts = new Map<string, number>();
  return {
    sends,
    failures,
    set: (phase, revision) => void (app = appAt(phase, revision)),
    activities: {
      async readNotificationSubject() {
        const subscriptions = subscriptionsFor(cfg, app);
        return { app, appProject: null, context: {}, triggers: cfg.triggers, subscriptions, problems: [] };
      },
      async sendNotification(input) {
        const n = (attempts.get(input.idempotencyKey) ?? 0) + 1;
        attempts.set(input.idempotencyKey, n);
        if (input.destination.recipient === 'refused') throw ApplicationFailure.nonRetryable('hook: the server answered 404', 'NotificationRefused');
        if (n <= (failFirst[input.destination.recipient] ?? 0)) throw new Error(`hook: the server answered 503 (attempt ${n})`);
        sends.push({ ...input, trigger: `${input.trigger}#${n}` });
      },
      async recordNotificationFailure(f) {
        failures.push(f);
      },
    },
  };
}

test('each firing reaches each recipient once: retried until delivered, never resent while the condition holds, refusals become an Event', async () => {
  const taskQueue = `notifications-${Date.now()}`;
  const workflowId = 'notifications/argocd/web';
  const s = stubs({ b: 3 });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: s.activities,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(notificationsWorkflow, { taskQueue, workflowId, args: [{ namespace: 'argocd', name: 'web' }] });
    const nudge = () => handle.signal(notificationsNudgeSignal);
    try {
      s.set('Succeeded', 'r1');
      await nudge();
      // b fails three times (1s, 2s, 4s of backoff) and is delivered on the fourth attempt.
      await eventually('on-deployed delivered to a and b', async () => s.sends.length === 2, 20_000);
      for (let i = 0; i < 3; i++) await nudge(); // the condition still holds: nothing new
      s.set('Failed', 'r1');
      await nudge();
      await eventually('on-sync-failed delivered to a, refused for refused', async () => s.sends.length === 3 && s.failures.length === 1, 10_000);
      s.set('Succeeded', 'r1'); // same revision: on-deployed is once per revision
      await nudge();
      s.set('Succeeded', 'r2');
      await nudge();
      await eventually('on-deployed for r2', async () => s.sends.length === 5, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      const got = s.sends.map((x) => `${x.trigger} ${x.destination.recipient}`).sort();
      // b fails the first three attempts of every firing, so each of its two arrives on the fourth.
      assert.deepEqual(got, ['on-deployed#1 a', 'on-deployed#1 a', 'on-deployed#4 b', 'on-deployed#4 b', 'on-sync-failed#1 a'].sort());
      const keys = s.sends.map((x) => x.idempotencyKey);
      assert.equal(new Set(keys).size, keys.length, 'one key per firing and recipient');
      assert.equal(s.failures.length, 1);
      assert.equal(s.failures[0].destination.recipient, 'refused');
      assert.match(s.failures[0].message, /404/);
      // A wake-up reads in its own workflow task (a local activity): the only activities are the sends and the failure's Event.
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
      assert.deepEqual([...new Set(scheduled)].sort(), ['recordNotificationFailure', 'sendNotification']);
      assert.ok(
        events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'),
        'the reads are local activities',
      );
      if (process.env.SLUICE_RECORD_HISTORIES) {
        // Guards determinism: test/workflow/replay.test.ts replays it against today's code.
        fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'notifications.json'), historyToJSON(await handle.fetchHistory()));
      }
    } finally {
      await handle.terminate('test done');
    }
  });
});

test('a Rollout aborted by a failed analysis: on-analysis-run-failed and on-rollout-aborted once each, whatever the nudges', async () => {
  const taskQueue = `rollout-notifications-${Date.now()}`;
  const cfg = parseNotificationConfig({ 'service.slack': 'token: x' }, {}, ROLLOUTS_CATALOG);
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'ro-uid',
      annotations: {
        'notifications.argoproj.io/subscribe.on-rollout-aborted.slack': 'ops',
        'notifications.argoproj.io/subscribe.on-analysis-run-failed.slack': 'ops',
        'notifications.argoproj.io/subscribe.on-rollout-completed.slack': 'ops',
      },
    },
  };
  let observation: RolloutObservation = { hash: 'a', stableHash: 'a', paused: false, aborted: false, completed: true, replicaSets: {}, analysisRuns: {} };
  const sends: SendNotificationInput[] = [];
  let refuseFirst = 1;
  const activities: Partial<NotificationActivities> = {
    async readRolloutNotificationSubject(): Promise<RolloutNotificationSubject> {
      const subscriptions = subscriptionsFor(cfg, rollout);
      return { rollout, analysisRuns: [], observation, triggers: cfg.triggers, subscriptions, problems: [] };
    },
    async sendNotification(input) {
      if (input.trigger === 'on-rollout-aborted' && refuseFirst-- > 0) throw new Error('slack: the server answered 503');
      sends.push(input);
    },
    async recordNotificationFailure() {},
  };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: prebuiltBundlePath }, activities });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(rolloutNotificationsWorkflow, {
      taskQueue,
      workflowId: 'notifications/rollout/shop/web',
      args: [{ namespace: 'shop', name: 'web' }],
    });
    const nudge = () => handle.signal(notificationsNudgeSignal);
    try {
      await new Promise((r) => setTimeout(r, 500)); // the baseline: a completed rollout sends nothing
      observation = { ...observation, hash: 'b', completed: false, analysisRuns: { 'web-b-1': 'Running' } };
      await nudge();
      observation = { ...observation, analysisRuns: { 'web-b-1': 'Failed' }, aborted: true, abortedAt: 't1' };
      for (let i = 0; i < 3; i++) await nudge();
      await eventually('both sent', async () => sends.length === 2, 15_000);
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(sends.map((x) => x.trigger).sort(), ['on-analysis-run-failed', 'on-rollout-aborted']);
      assert.ok(sends.every((x) => x.rollout && x.app.metadata.name === 'web' && x.destination.recipient === 'ops'));
      assert.deepEqual(sends.find((x) => x.trigger === 'on-rollout-aborted')!.templates, ['rollout-aborted']);
      if (process.env.SLUICE_RECORD_HISTORIES) {
        fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'rollout-notifications.json'), historyToJSON(await handle.fetchHistory()));
      }
    } finally {
      await handle.terminate('test done');
    }
  });
});
