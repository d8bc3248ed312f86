// What the dashboard's lists and live stream send: the summaries of Applications,
// ApplicationSets and Rollouts (set and actual weight as Argo's dashboard shows them) and the watch names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applicationSetSummary, applicationSummary, rolloutSummary } from '../../api/dashboard/summaries';
import { parseWatch } from '../../api/routes/stream';

test('an Application summary: what the list shows of sync, health, destination, revision and last sync; defaults when status is empty', () => {
  const app = (status: any) =>
    applicationSummary({
      metadata: { name: 'frontend-app', namespace: 'argocd', labels: { team: 'fe' } },
      spec: {
        project: 'team-frontend',
        source: { repoURL: 'https://git.example.com/devops/ops-deploy', path: 'apps/frontend', targetRevision: 'HEAD' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'frontend-dev' },
      },
      status,
    });
  const s = app({
    sync: { status: 'OutOfSync', revision: 'abc1234def' },
    health: { status: 'Healthy' },
    operationState: { phase: 'Succeeded', finishedAt: '2026-01-01T00:00:00Z' },
    conditions: [{ type: 'SyncError' }],
  });
  assert.deepEqual(JSON.parse(JSON.stringify(s)), {
    namespace: 'argocd',
    name: 'frontend-app',
    project: 'team-frontend',
    sync: 'OutOfSync',
    health: 'Healthy',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'frontend-dev' },
    revision: 'abc1234',
    lastSync: '2026-01-01T00:00:00Z',
    labels: { team: 'fe' },
  });
  const running = app({
    sync: { status: 'Synced', revisions: ['1.2.3', 'abc1234def'] },
    operationState: { phase: 'Running' },
    history: [{ deployedAt: 'then' }],
  });
  assert.deepEqual([running.syncing, running.revision, running.lastSync], [true, '1.2.3', 'then']);
  const bare = applicationSummary({ metadata: { name: 'x', namespace: 'y' }, spec: {} });
  assert.equal(bare.project, 'default');
  assert.equal(bare.sync, 'Unknown');
  assert.equal(bare.health, 'Unknown');
  assert.equal(bare.syncing, undefined);
});

test('a Rollout summary: the step, the set weight of the last setWeight reached, the actual weight from pods or traffic', () => {
  const steps = [{ setWeight: 33 }, { pause: {} }, { setWeight: 66 }, { pause: { duration: '10s' } }];
  const ro = (status: any, extra: any = {}) => ({
    metadata: { name: 'canary-basic', namespace: 'ns' },
    spec: { replicas: 3, strategy: { canary: { steps, ...extra } }, template: { spec: { containers: [{ name: 'app', image: 'demo:yellow' }] } } },
    status,
  });
  const paused = rolloutSummary(ro({ phase: 'Paused', currentStepIndex: 1, replicas: 4, updatedReplicas: 1, readyReplicas: 4 }));
  assert.deepEqual(
    {
      step: paused.step,
      steps: paused.steps,
      setWeight: paused.setWeight,
      actualWeight: paused.actualWeight,
      images: paused.images,
      strategy: paused.strategy,
    },
    { step: 2, steps: 4, setWeight: 33, actualWeight: 25, images: ['demo:yellow'], strategy: 'Canary' },
  );
  const routed = rolloutSummary(ro({ phase: 'Paused', currentStepIndex: 3, canary: { weights: { canary: { weight: 66 } } } }));
  assert.equal(routed.setWeight, 66);
  assert.equal(routed.actualWeight, 66);
  const done = rolloutSummary(ro({ phase: 'Healthy', currentStepIndex: 4, replicas: 3, updatedReplicas: 3 }));
  assert.deepEqual([done.step, done.setWeight, done.actualWeight], [4, 100, 100]);
  const bg = rolloutSummary({ metadata: { name: 'bg', namespace: 'ns' }, spec: { strategy: { blueGreen: {} } } });
  assert.deepEqual([bg.strategy, bg.step, bg.setWeight, bg.phase, bg.desired], ['BlueGreen', undefined, undefined, 'Progressing', 1]);
});

test('the stream takes lists and single objects by name, and refuses anything else', () => {
  assert.deepEqual(parseWatch('applications,rollout/ns/canary-basic'), [{ kind: 'applications' }, { kind: 'rollout', namespace: 'ns', name: 'canary-basic' }]);
  assert.deepEqual(parseWatch('applicationsets,applicationset/ns/guestbook'), [
    { kind: 'applicationsets' },
    { kind: 'applicationset', namespace: 'ns', name: 'guestbook' },
  ]);
  assert.throws(() => parseWatch('secrets'), /unknown item "secrets"/);
  assert.throws(() => parseWatch('application/ns'), /unknown item/);
  assert.throws(() => parseWatch('application/ns/a/b'), /unknown item/);
  assert.throws(() => parseWatch(''), /1 to 8 items/);
  assert.throws(() => parseWatch(Array(9).fill('rollouts').join(',')), /1 to 8 items/);
});

test('an ApplicationSet summary: the project of its template, the conditions that hold, how many Applications it made', () => {
  const s = applicationSetSummary({
    metadata: { name: 'guestbook', namespace: 'argocd' },
    spec: { template: { spec: { project: 'team' } } },
    status: {
      conditions: [
        { type: 'ErrorOccurred', status: 'False' },
        { type: 'ParametersGenerated', status: 'True' },
        { type: 'ResourcesUpToDate', status: 'True' },
      ],
      resources: [{ name: 'guestbook-dev' }, { name: 'guestbook-prod' }],
    },
  });
  assert.deepEqual(s, { namespace: 'argocd', name: 'guestbook', project: 'team', conditions: ['ParametersGenerated', 'ResourcesUpToDate'], applications: 2 });
  assert.deepEqual(applicationSetSummary({ metadata: { name: 'x', namespace: 'y' }, spec: {} }), {
    namespace: 'y',
    name: 'x',
    project: 'default',
    conditions: [],
    applications: 0,
  });
});
