// The pure parts of the sync gates: sync windows named in the refusal, Prune=confirm's
// approval time, Validate=false's field validation, the jq program built for
// jqPathExpressions, and the OrphanedResourceWarning condition on the status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeWindow, syncWindowVerdict, type AppProject, type SyncWindow, type SyncWindowApp } from '../../domain/projects/boundaries';
import { isDeletionConfirmed } from '../../activities/application';
import { fieldValidationFor } from '../../activities/sync';
import { jqDeletionProgram } from '../../activities/jq';
import { ignoredJqExpressions } from '../../domain/applications/diff';
import { projectStatus } from '../../domain/applications/reconcile';
import { parseSyncOptions } from '../../domain/sync/resources';

const app: SyncWindowApp = { name: 'web', namespace: 'shop', server: 'https://kubernetes.default.svc' };
const withWindows = (...syncWindows: SyncWindow[]): AppProject => ({ metadata: { name: 'p' }, spec: { syncWindows } });
const at = (iso: string) => new Date(iso);
const nightlyDeny: SyncWindow = { kind: 'deny', schedule: '0 22 * * *', duration: '1h', applications: ['web'] };
const businessHours: SyncWindow = { kind: 'allow', schedule: '0 9 * * 1-5', duration: '8h', namespaces: ['shop'] };

test('a blocked sync names the active deny window', () => {
  const p = withWindows(nightlyDeny);
  assert.deepEqual(syncWindowVerdict(p, app, at('2025-01-15T22:30:00Z'), false), {
    allowed: false,
    message: "Sync operation blocked by sync window: deny window '0 22 * * *' for 1h on applications web is active",
  });
  assert.deepEqual(syncWindowVerdict(p, app, at('2025-01-15T22:30:00Z'), true), {
    allowed: false,
    message: "cannot sync: blocked by sync window: deny window '0 22 * * *' for 1h on applications web is active",
  });
  assert.deepEqual(syncWindowVerdict(p, app, at('2025-01-15T23:30:00Z'), false), { allowed: true });
});

test('manualSync: only the deny windows that refuse manual syncs are named', () => {
  const p = withWindows({ ...nightlyDeny, manualSync: true }, { kind: 'deny', schedule: '30 21 * * *', duration: '2h', namespaces: ['shop'] });
  const v = syncWindowVerdict(p, app, at('2025-01-15T22:30:00Z'), true);
  assert.equal(v.allowed, false);
  assert.equal(v.message, "cannot sync: blocked by sync window: deny window '30 21 * * *' for 2h on namespaces shop is active");
  assert.equal(syncWindowVerdict(withWindows({ ...nightlyDeny, manualSync: true }), app, at('2025-01-15T22:30:00Z'), true).allowed, true);
});

test('outside every allow window, the allow windows are named', () => {
  const v = syncWindowVerdict(withWindows(businessHours), app, at('2025-01-15T18:00:00Z'), false);
  assert.equal(v.message, "Sync operation blocked by sync window: allow window '0 9 * * 1-5' for 8h on namespaces shop is not active");
  assert.equal(syncWindowVerdict(withWindows(businessHours), app, at('2025-01-15T10:00:00Z'), false).allowed, true);
});

test('an unparsable schedule or duration blocks, saying which', () => {
  const badSchedule = syncWindowVerdict(withWindows({ ...nightlyDeny, schedule: '0 25 * * *' }), app, at('2025-01-15T12:00:00Z'), true);
  assert.equal(badSchedule.allowed, false);
  assert.match(badSchedule.message!, /^cannot sync: blocked by sync window: invalid sync windows: cannot parse schedule '0 25 \* \* \*'/);
  const badDuration = syncWindowVerdict(withWindows({ ...nightlyDeny, duration: '1 hour' }), app, at('2025-01-15T12:00:00Z'), false);
  assert.match(badDuration.message!, /invalid sync windows: cannot parse duration '1 hour'/);
});

test('describeWindow shows the time zone and every selector', () => {
  assert.equal(
    describeWindow({ kind: 'allow', schedule: '0 9 * * *', duration: '2h', timeZone: 'Europe/Paris', applications: ['a', 'b*'], clusters: ['in-cluster'] }),
    "allow window '0 9 * * *' for 2h (Europe/Paris) on applications a,b*, clusters in-cluster",
  );
});

test('deletion approval counts for operations started at or before it (second precision)', () => {
  const started = '2026-01-01T10:00:00.600Z';
  assert.equal(isDeletionConfirmed(undefined, started), false);
  assert.equal(isDeletionConfirmed('not a time', started), false);
  assert.equal(isDeletionConfirmed('2026-01-01T09:59:59Z', started), false);
  assert.equal(isDeletionConfirmed('2026-01-01T10:00:00Z', started), true);
  assert.equal(isDeletionConfirmed('2026-01-01T10:05:00Z', started), true);
});

test('Validate=false: the apply ignores unknown fields; by default it is strict, as kubectl apply', () => {
  assert.equal(fieldValidationFor(parseSyncOptions([]).validate), 'Strict');
  assert.equal(fieldValidationFor(parseSyncOptions(['Validate=false']).validate), 'Ignore');
  assert.equal(fieldValidationFor(parseSyncOptions(['CreateNamespace=true,Validate=false']).validate), 'Ignore');
});

test('jqPathExpressions: one del() per expression, each falling back to its input on error', () => {
  assert.equal(
    jqDeletionProgram(['.spec.replicas', '.a[] | select(.n == "x")']),
    '(. as $in | [try del(.spec.replicas) catch $in] | if length == 1 then .[0] else $in end) | (. as $in | [try del(.a[] | select(.n == "x")) catch $in] | if length == 1 then .[0] else $in end)',
  );
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } };
  const ignore = [
    { group: 'apps', kind: 'Deployment', jqPathExpressions: ['.spec.replicas'] },
    { group: 'apps', kind: 'Deployment', name: 'other', jqPathExpressions: ['.spec.paused'] },
    { group: '', kind: 'ConfigMap', jqPathExpressions: ['.data'] },
  ];
  assert.deepEqual(ignoredJqExpressions(deploy, ignore), ['.spec.replicas']);
});

test('an OrphanedResourceWarning from the compare is a condition beside any ComparisonError', () => {
  const base = { spec: {}, history: [], reconciledAt: '2026-01-01T00:00:00Z' };
  const warned = projectStatus({
    ...base,
    comparison: {
      resources: [],
      syncStatus: 'Synced',
      health: 'Healthy',
      kinds: [],
      warnings: [{ type: 'OrphanedResourceWarning', message: 'Application has 1 orphaned resources' }],
    },
  });
  assert.deepEqual(warned.conditions, [{ type: 'OrphanedResourceWarning', message: 'Application has 1 orphaned resources' }]);
  const clean = projectStatus({ ...base, comparison: { resources: [], syncStatus: 'Synced', health: 'Healthy', kinds: [] } });
  assert.equal(clean.conditions, null);
});
