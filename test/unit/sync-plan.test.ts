import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { examplesDir } from '../support/paths';
import { KIND_ORDER, SyncPlanError, describePlan, planSync, type SyncPlan } from '../../domain/sync/plan';
import {
  type ManifestResource,
  SyncAnnotationError,
  deletePoliciesOf,
  hookTypesOf,
  isHook,
  parseSyncOptions,
  phasesOf,
  resourceKey,
  waveOf,
} from '../../domain/sync/resources';

/** Every resource in the *.yaml files of one folder (not its subfolders), as a directory source reads them. */
function loadFolder(folder: string, exclude: string[] = []): ManifestResource[] {
  const dir = path.join(examplesDir, folder);
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.yaml') && !exclude.includes(e.name))
    .map((e) => e.name)
    .sort();
  assert.ok(files.length > 0, `no manifests in ${dir}`);
  return files.flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8'))
      .map((d) => d.toJS() as ManifestResource | null)
      .filter((r): r is ManifestResource => r !== null),
  );
}

function resource(kind: string, name: string, annotations: Record<string, string> = {}, extra: Partial<ManifestResource> = {}): ManifestResource {
  const apiVersion =
    {
      Deployment: 'apps/v1',
      StatefulSet: 'apps/v1',
      Job: 'batch/v1',
      CronJob: 'batch/v1',
      Ingress: 'networking.k8s.io/v1',
      CustomResourceDefinition: 'apiextensions.k8s.io/v1',
    }[kind] ?? 'v1';
  return { apiVersion, kind, metadata: { name, namespace: kind === 'Namespace' ? undefined : 'shop', annotations }, ...extra };
}

const wave = (n: number) => ({ 'argocd.argoproj.io/sync-wave': String(n) });
const steps = (plan: SyncPlan) =>
  plan.steps.map((s) => [s.phase, s.wave, s.tasks.map((t) => `${t.action === 'prune' ? 'prune ' : ''}${t.resource.kind}/${t.resource.metadata.name}`)]);

test('sync-waves-demo plans into its phases and waves, the Namespace created before the PreSync hook that lives in it', () => {
  const resources = loadFolder('sync-waves-demo', ['application.yaml']);
  assert.equal(resources.length, 10, 'the directory source is not recursive: migration/ stays out');
  const plan = planSync(resources, { namespace: 'sync-demo', prune: true });

  // Argo CD (gitops-engine adjustDeps) moves a Namespace in front of the first resource in
  // it, into that resource's phase and wave: here the PreSync hook Job, so a first sync on a
  // cluster without sync-demo works.
  assert.deepEqual(describePlan(plan), [
    'PreSync wave -5: Namespace/sync-demo, Job/db-backup-presync',
    'Sync wave 1: ConfigMap/app-config',
    'Sync wave 2: Service/db, Deployment/postgres',
    'Sync wave 3: Service/backend, Deployment/backend',
    'Sync wave 4: Service/frontend, Deployment/frontend',
    'PostSync wave 5: Job/healthcheck-postsync',
  ]);
  const [presync] = plan.steps;
  assert.deepEqual(
    presync.tasks.map((t) => [t.key, t.action, t.isHook, t.neededBy]),
    [
      ['/Namespace//sync-demo', 'apply', false, 'batch/Job/sync-demo/db-backup-presync'],
      ['batch/Job/sync-demo/db-backup-presync', 'create-hook', true, undefined],
    ],
  );
  const hooks = plan.steps.flatMap((s) => s.tasks).filter((t) => t.isHook);
  assert.deepEqual(
    hooks.map((t) => [t.resource.metadata.name, t.hookTypes, t.deletePolicies]),
    [
      ['db-backup-presync', ['PreSync'], ['HookSucceeded']],
      ['healthcheck-postsync', ['PostSync'], ['HookSucceeded']],
    ],
  );
  assert.deepEqual(plan.syncFail, []);
  assert.deepEqual(plan.pruneSkipped, []);
  assert.deepEqual(plan.excluded, []);
});

test('sync-waves-demo without its PreSync hook keeps the Namespace at Sync wave 0', () => {
  const resources = loadFolder('sync-waves-demo', ['application.yaml', 'presync-backup.yaml']);
  assert.deepEqual(describePlan(planSync(resources, { namespace: 'sync-demo' })), [
    'Sync wave 0: Namespace/sync-demo',
    'Sync wave 1: ConfigMap/app-config',
    'Sync wave 2: Service/db, Deployment/postgres',
    'Sync wave 3: Service/backend, Deployment/backend',
    'Sync wave 4: Service/frontend, Deployment/frontend',
    'PostSync wave 5: Job/healthcheck-postsync',
  ]);
});

test('the migration folder: PreSync backup, Sync migrate, PostSync verify', () => {
  const plan = planSync(loadFolder('sync-waves-demo/migration'), { namespace: 'sync-demo' });
  assert.deepEqual(
    plan.steps.map((s) => [s.phase, s.wave, s.tasks.map((t) => [t.resource.metadata.name, t.action, t.deletePolicies])]),
    [
      ['PreSync', -1, [['db-migration-backup', 'create-hook', ['BeforeHookCreation']]]],
      ['Sync', 0, [['db-migration-execute', 'apply', []]]],
      ['PostSync', 1, [['db-migration-verify', 'create-hook', ['HookSucceeded']]]],
    ],
  );
});

test("the kind order is gitops-engine's, and unknown kinds come last ordered by name alone", () => {
  // Anchors from gitops-engine's kind order (sync/sync_tasks.go): what must come before what.
  const anchors = [
    'Namespace',
    'ServiceAccount',
    'Secret',
    'ConfigMap',
    'CustomResourceDefinition',
    'ClusterRole',
    'RoleBinding',
    'Service',
    'Pod',
    'Deployment',
    'Job',
    'Ingress',
    'APIService',
  ];
  assert.deepEqual(
    anchors.map((kind) => KIND_ORDER.indexOf(kind)),
    anchors.map((kind) => KIND_ORDER.indexOf(kind)).sort((a, b) => a - b),
  );
  assert.ok(anchors.every((kind) => KIND_ORDER.includes(kind)));
  assert.equal(new Set(KIND_ORDER).size, KIND_ORDER.length);
  const unknown = (kind: string, name: string): ManifestResource => ({ apiVersion: 'example.com/v1', kind, metadata: { name, namespace: 'shop' } });
  // Reverse order in, one wave, distinct names that would sort the other way.
  const known = [...KIND_ORDER].reverse().map((kind, i) => resource(kind, `r${String(i).padStart(2, '0')}`));
  const plan = planSync([unknown('Widget', 'a'), unknown('Gadget', 'b'), unknown('Widget', 'c'), ...known]);
  assert.equal(plan.steps.length, 1);
  const order = plan.steps[0].tasks.map((t) => `${t.resource.kind}/${t.resource.metadata.name}`);
  assert.deepEqual(
    order.slice(0, KIND_ORDER.length).map((o) => o.split('/')[0]),
    [...KIND_ORDER],
  );
  assert.deepEqual(order.slice(KIND_ORDER.length), ['Widget/a', 'Gadget/b', 'Widget/c']);
});

test('within a kind, names sort; phases come before waves', () => {
  const plan = planSync([
    resource('ConfigMap', 'b', wave(-10)),
    resource('ConfigMap', 'a', wave(-10)),
    resource('Job', 'late-presync', { 'argocd.argoproj.io/hook': 'PreSync', ...wave(100) }),
    resource('Job', 'sync-hook', { 'argocd.argoproj.io/hook': 'Sync', ...wave(-10) }),
  ]);
  assert.deepEqual(steps(plan), [
    ['PreSync', 100, ['Job/late-presync']],
    ['Sync', -10, ['ConfigMap/a', 'ConfigMap/b', 'Job/sync-hook']],
  ]);
  assert.equal(plan.steps[1].tasks[2].action, 'create-hook');
});

test('prunes stay in the Sync phase with their waves mirrored: created last, pruned first', () => {
  const plan = planSync([resource('ConfigMap', 'keep-0', wave(0)), resource('ConfigMap', 'keep-1', wave(1)), resource('ConfigMap', 'keep-2', wave(2))], {
    prune: true,
    liveOnly: [resource('Service', 'old-0', wave(0)), resource('Deployment', 'old-1', wave(1)), resource('Secret', 'old-3', wave(3))],
  });
  // Distinct prune waves 0, 1, 3 become 3, 1, 0: old-3 goes first, old-0 last.
  assert.deepEqual(steps(plan), [
    ['Sync', 0, ['prune Secret/old-3', 'ConfigMap/keep-0']],
    ['Sync', 1, ['ConfigMap/keep-1', 'prune Deployment/old-1']],
    ['Sync', 2, ['ConfigMap/keep-2']],
    ['Sync', 3, ['prune Service/old-0']],
  ]);
  assert.ok(
    plan.steps
      .flatMap((s) => s.tasks)
      .filter((t) => t.action === 'prune')
      .every((t) => t.phase === 'Sync' && !t.isHook),
  );
});

test('PruneLast prunes after every other Sync wave; from the resource or the Application', () => {
  const git = [
    resource('ConfigMap', 'a', wave(0)),
    resource('ConfigMap', 'b', wave(4)),
    resource('Job', 'after', { 'argocd.argoproj.io/hook': 'PostSync', ...wave(9) }),
  ];
  const live = [resource('ConfigMap', 'last', { 'argocd.argoproj.io/sync-options': 'PruneLast=true', ...wave(-2) }), resource('ConfigMap', 'early', wave(2))];
  // Prune waves -2 and 2 swap first; then the PruneLast one moves past the last Sync wave (4).
  assert.deepEqual(steps(planSync(git, { prune: true, liveOnly: live })), [
    ['Sync', -2, ['prune ConfigMap/early']],
    ['Sync', 0, ['ConfigMap/a']],
    ['Sync', 4, ['ConfigMap/b']],
    ['Sync', 5, ['prune ConfigMap/last']],
    ['PostSync', 9, ['Job/after']],
  ]);
  assert.deepEqual(steps(planSync(git, { prune: true, liveOnly: live, pruneLast: true })).slice(-2), [
    ['Sync', 5, ['prune ConfigMap/early', 'prune ConfigMap/last']],
    ['PostSync', 9, ['Job/after']],
  ]);
  // With only negative waves the final prune wave is still 1, as in Argo CD.
  assert.deepEqual(steps(planSync([resource('ConfigMap', 'a', wave(-3))], { prune: true, liveOnly: [live[0]] })), [
    ['Sync', -3, ['ConfigMap/a']],
    ['Sync', 1, ['prune ConfigMap/last']],
  ]);
});

test("Prune=false and a sync without prune leave live-only resources in place, with Argo CD's message", () => {
  const live = [resource('ConfigMap', 'kept', { 'argocd.argoproj.io/sync-options': 'Prune=false' }), resource('ConfigMap', 'gone')];
  const withPrune = planSync([], { prune: true, liveOnly: live });
  assert.deepEqual(steps(withPrune), [['Sync', 0, ['prune ConfigMap/gone']]]);
  assert.deepEqual(
    withPrune.pruneSkipped.map((s) => [s.task.resource.metadata.name, s.message]),
    [['kept', 'ignored (no prune)']],
  );
  assert.deepEqual(describePlan(withPrune), ['Sync wave 0: prune ConfigMap/gone', 'not pruned, ignored (no prune): ConfigMap/kept']);

  const withoutPrune = planSync([], { liveOnly: live });
  assert.deepEqual(withoutPrune.steps, []);
  assert.deepEqual(
    withoutPrune.pruneSkipped.map((s) => [s.task.resource.metadata.name, s.message]),
    [
      ['gone', 'ignored (requires pruning)'],
      ['kept', 'ignored (requires pruning)'],
    ],
  );

  // The Application's Prune=false applies unless the resource says otherwise.
  const appDefault = planSync([], {
    prune: true,
    defaultPruneOption: 'false',
    liveOnly: [resource('ConfigMap', 'own', { 'argocd.argoproj.io/sync-options': 'Prune=true' }), resource('ConfigMap', 'app')],
  });
  assert.deepEqual(steps(appDefault), [['Sync', 0, ['prune ConfigMap/own']]]);
  assert.deepEqual(
    appDefault.pruneSkipped.map((s) => s.task.resource.metadata.name),
    ['app'],
  );

  const confirm = planSync([], {
    prune: true,
    liveOnly: [resource('ConfigMap', 'ask', { 'argocd.argoproj.io/sync-options': 'Prune=confirm' }), resource('ConfigMap', 'go')],
  });
  assert.deepEqual(
    confirm.steps[0].tasks.map((t) => [t.resource.metadata.name, t.requiresPruneConfirmation]),
    [
      ['ask', true],
      ['go', false],
    ],
  );
});

test('live hooks and Skip resources are never pruned', () => {
  const plan = planSync([], {
    prune: true,
    liveOnly: [
      resource('Job', 'old-hook', { 'argocd.argoproj.io/hook': 'PostSync' }),
      resource('Job', 'helm-hook', { 'helm.sh/hook': 'post-install' }),
      resource('ConfigMap', 'skipped', { 'argocd.argoproj.io/hook': 'Skip' }),
      // A live object's bad annotation must not block the sync: read as Argo CD reads it.
      resource('ConfigMap', 'sloppy', { 'argocd.argoproj.io/sync-wave': 'soon' }),
    ],
  });
  assert.deepEqual(steps(plan), [['Sync', 0, ['prune ConfigMap/sloppy']]]);
});

test('Skip leaves a resource out; Skip beside another hook type does not', () => {
  const plan = planSync([
    resource('ConfigMap', 'manual', { 'argocd.argoproj.io/hook': 'Skip' }),
    resource('Job', 'both', { 'argocd.argoproj.io/hook': 'Skip, PreSync' }),
    resource('ConfigMap', 'normal'),
  ]);
  assert.deepEqual(steps(plan), [
    ['PreSync', 0, ['Job/both']],
    ['Sync', 0, ['ConfigMap/normal']],
  ]);
  assert.deepEqual(
    plan.excluded.map((e) => [e.key, e.reason]),
    [['/ConfigMap/shop/manual', 'Skip']],
  );
});

test('a wave that is not an integer is an error naming the resource', () => {
  for (const bad of ['soon', '1.5', ' 2', '', '3 ']) {
    assert.throws(
      () => planSync([resource('ConfigMap', 'ok'), resource('Deployment', 'web', { 'argocd.argoproj.io/sync-wave': bad })]),
      (err: unknown) =>
        err instanceof SyncAnnotationError &&
        err.message.includes('Deployment/web in namespace shop') &&
        err.message.includes('argocd.argoproj.io/sync-wave') &&
        err.message.includes(JSON.stringify(bad)),
      `wave ${JSON.stringify(bad)}`,
    );
  }
  assert.equal(waveOf(resource('ConfigMap', 'a', { 'argocd.argoproj.io/sync-wave': '+7' })), 7);
  assert.equal(waveOf(resource('ConfigMap', 'a', { 'argocd.argoproj.io/sync-wave': '-12' })), -12);
  assert.equal(waveOf(resource('ConfigMap', 'a')), 0);
  assert.equal(waveOf(resource('ConfigMap', 'a', { 'argocd.argoproj.io/sync-wave': 'x', 'helm.sh/hook-weight': '4' }), { strict: false }), 4);
});

test('unknown hook types and delete policies are errors naming the resource', () => {
  assert.throws(
    () => planSync([resource('Job', 'j', { 'argocd.argoproj.io/hook': 'PreSync,Postsync' })]),
    (err: unknown) => err instanceof SyncAnnotationError && /Job\/j in namespace shop: annotation argocd\.argoproj\.io\/hook is "Postsync"/.test(err.message),
  );
  assert.throws(() => planSync([resource('Job', 'j', { 'argocd.argoproj.io/hook': ' , ' })]), SyncAnnotationError);
  assert.throws(
    () => planSync([resource('Job', 'j', { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded,OnSuccess' })]),
    (err: unknown) => err instanceof SyncAnnotationError && err.message.includes('"OnSuccess"'),
  );
  // Read leniently (live objects), Argo CD drops what it does not know.
  assert.deepEqual(hookTypesOf(resource('Job', 'j', { 'argocd.argoproj.io/hook': 'PreSync,Postsync' }), { strict: false }), ['PreSync']);
});

test('hooks: several phases, SyncFail apart, delete policies default to BeforeHookCreation', () => {
  const plan = planSync([
    resource('Job', 'around', { 'argocd.argoproj.io/hook': 'PreSync,PostSync', 'argocd.argoproj.io/hook-delete-policy': 'HookFailed, HookSucceeded' }),
    resource('Job', 'cleanup', { 'argocd.argoproj.io/hook': 'SyncFail', ...wave(3) }),
    resource('Pod', 'notify', { 'argocd.argoproj.io/hook': 'SyncFail' }),
    resource('Deployment', 'web'),
  ]);
  assert.deepEqual(steps(plan), [
    ['PreSync', 0, ['Job/around']],
    ['Sync', 0, ['Deployment/web']],
    ['PostSync', 0, ['Job/around']],
  ]);
  assert.deepEqual(plan.steps[0].tasks[0].deletePolicies, ['HookFailed', 'HookSucceeded']);
  assert.deepEqual(
    plan.syncFail.map((t) => [t.resource.metadata.name, t.phase, t.wave, t.deletePolicies]),
    [
      ['notify', 'SyncFail', 0, ['BeforeHookCreation']],
      ['cleanup', 'SyncFail', 3, ['BeforeHookCreation']],
    ],
  );
  assert.deepEqual(describePlan(plan).at(-1), 'SyncFail (only if the sync fails): Pod/notify, Job/cleanup');
  assert.deepEqual(deletePoliciesOf(resource('Deployment', 'web')), ['BeforeHookCreation']);
  assert.equal(plan.steps[1].tasks[0].deletePolicies.length, 0, 'a non-hook has no delete policy');
});

test('Helm hooks map to Argo phases; Helm-only hook types run in no sync phase', () => {
  const plan = planSync([
    resource('Job', 'migrate', { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-2', 'helm.sh/hook-delete-policy': 'hook-succeeded' }),
    resource('Job', 'smoke', { 'helm.sh/hook': 'post-upgrade' }),
    resource('Pod', 'test', { 'helm.sh/hook': 'test' }),
    resource('CustomResourceDefinition', 'widgets.example.com', { 'helm.sh/hook': 'crd-install' }, { spec: {} }),
    // The Argo annotation wins over Helm's.
    resource('Job', 'argo-wins', { 'argocd.argoproj.io/hook': 'PostSync', 'helm.sh/hook': 'pre-install' }),
  ]);
  assert.deepEqual(steps(plan), [
    ['PreSync', -2, ['Job/migrate']],
    ['Sync', 0, ['CustomResourceDefinition/widgets.example.com']],
    ['PostSync', 0, ['Job/argo-wins', 'Job/smoke']],
  ]);
  assert.deepEqual(plan.steps[0].tasks[0].deletePolicies, ['HookSucceeded']);
  assert.deepEqual(
    plan.excluded.map((e) => [e.resource.metadata.name, e.reason]),
    [['test', 'hook runs in no sync phase']],
  );
});

test('deletion hooks are kept for Application deletion, not run by a sync', () => {
  const cleanup = resource('Job', 'cleanup', { 'argocd.argoproj.io/hook': 'PostDelete' });
  const drain = resource('Job', 'drain', { 'helm.sh/hook': 'pre-delete' });
  const both = resource('Job', 'both', { 'argocd.argoproj.io/hook': 'PostSync,PostDelete' });
  const plan = planSync([cleanup, drain, both, resource('ConfigMap', 'c')]);
  assert.deepEqual(steps(plan), [
    ['Sync', 0, ['ConfigMap/c']],
    ['PostSync', 0, ['Job/both']],
  ]);
  assert.deepEqual(plan.deletionHooks.postDelete, [cleanup, both]);
  assert.deepEqual(plan.deletionHooks.preDelete, [drain]);
});

test('a CRD is created before a hook that makes one of its resources', () => {
  const crd = resource('CustomResourceDefinition', 'widgets.example.com', wave(5), { spec: { group: 'example.com', names: { kind: 'Widget' } } });
  const widget: ManifestResource = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'shop', annotations: { 'argocd.argoproj.io/hook': 'PreSync', ...wave(-1) } },
  };
  const plan = planSync([widget, crd, resource('ConfigMap', 'c')]);
  assert.deepEqual(steps(plan), [
    ['PreSync', -1, ['CustomResourceDefinition/widgets.example.com', 'Widget/w']],
    ['Sync', 0, ['ConfigMap/c']],
  ]);
  assert.equal(plan.steps[0].tasks[0].neededBy, 'example.com/Widget/shop/w');
});

test('resources without a namespace count as in the destination namespace', () => {
  const ns = resource('Namespace', 'shop', wave(3));
  const cm: ManifestResource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: wave(1) } };
  assert.deepEqual(steps(planSync([ns, cm])), [
    ['Sync', 1, ['ConfigMap/c']],
    ['Sync', 3, ['Namespace/shop']],
  ]);
  assert.deepEqual(steps(planSync([ns, cm], { namespace: 'shop' })), [['Sync', 1, ['Namespace/shop', 'ConfigMap/c']]]);
});

test('ApplyOutOfSyncOnly leaves synced resources out but keeps hooks and prunes', () => {
  const git = [resource('ConfigMap', 'changed'), resource('ConfigMap', 'same'), resource('Job', 'hook', { 'argocd.argoproj.io/hook': 'PreSync' })];
  const plan = planSync(git, { prune: true, outOfSyncOnly: new Set(['/ConfigMap/shop/changed']), liveOnly: [resource('Secret', 'old')] });
  assert.deepEqual(steps(plan), [
    ['PreSync', 0, ['Job/hook']],
    ['Sync', 0, ['prune Secret/old', 'ConfigMap/changed']],
  ]);
  assert.deepEqual(
    plan.excluded.map((e) => [e.key, e.reason]),
    [['/ConfigMap/shop/same', 'in sync (ApplyOutOfSyncOnly)']],
  );
  assert.equal(planSync(git).steps[1].tasks.length, 2, 'without the option every resource is applied');
});

test('skipHooks runs the resources only', () => {
  const plan = planSync(
    [
      resource('Job', 'h', { 'argocd.argoproj.io/hook': 'PreSync' }),
      resource('Job', 'f', { 'argocd.argoproj.io/hook': 'SyncFail' }),
      resource('ConfigMap', 'c'),
    ],
    { skipHooks: true },
  );
  assert.deepEqual(steps(plan), [['Sync', 0, ['ConfigMap/c']]]);
  assert.deepEqual(plan.syncFail, []);
  assert.deepEqual(
    plan.excluded.map((e) => [e.resource.metadata.name, e.reason]),
    [
      ['h', 'hooks skipped'],
      ['f', 'hooks skipped'],
    ],
  );
});

test('a generateName hook is named from the revision, phase and start time, as Argo CD names it', () => {
  const hook: ManifestResource = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { generateName: 'migrate-', name: '', namespace: 'shop', annotations: { 'argocd.argoproj.io/hook': 'PreSync,PostSync' } },
  };
  const plan = planSync([hook], { hookNaming: { revision: 'ABCDEF0123456789', startedAtUnixSeconds: 1700000000 } });
  assert.deepEqual(
    plan.steps.map((s) => s.tasks[0].resource.metadata.name),
    ['migrate-abcdef0-presync-1700000000', 'migrate-abcdef0-postsync-1700000000'],
  );
  assert.equal(plan.steps[0].tasks[0].key, 'batch/Job/shop/migrate-abcdef0-presync-1700000000');
  assert.equal(hook.metadata.name, '', 'the manifest itself is not changed');
  assert.throws(
    () => planSync([hook]),
    (err: unknown) => err instanceof SyncPlanError && err.message.includes('generateName'),
  );
});

test('a resource twice in Git, or in Git and live-only, is refused', () => {
  assert.throws(
    () => planSync([resource('ConfigMap', 'c'), resource('ConfigMap', 'c')]),
    (err: unknown) => err instanceof SyncPlanError && err.message.includes('/ConfigMap/shop/c'),
  );
  assert.throws(() => planSync([resource('ConfigMap', 'c')], { liveOnly: [resource('ConfigMap', 'c')] }), SyncPlanError);
  assert.throws(
    () => planSync([resource('ConfigMap', '')]),
    (err: unknown) => err instanceof SyncPlanError && err.message.includes('metadata.name'),
  );
});

test('annotation readers', () => {
  assert.equal(resourceKey(resource('Deployment', 'web')), 'apps/Deployment/shop/web');
  assert.equal(resourceKey(resource('Namespace', 'shop')), '/Namespace//shop');
  assert.deepEqual(phasesOf(resource('ConfigMap', 'c')), ['Sync']);
  assert.deepEqual(phasesOf(resource('Job', 'j', { 'argocd.argoproj.io/hook': 'PostSync,PreSync,PostSync' })), ['PreSync', 'PostSync']);
  assert.deepEqual(phasesOf(resource('ConfigMap', 'c', { 'argocd.argoproj.io/hook': 'Skip' })), []);
  assert.equal(isHook(resource('ConfigMap', 'c', { 'argocd.argoproj.io/hook': 'Skip' })), false);
  assert.equal(isHook(resource('Job', 'j', { 'helm.sh/hook': 'post-install' })), true);

  const options = parseSyncOptions([
    ' Prune=false, PruneLast=true,Replace=true ',
    'ServerSideApply=false,Validate=false,SkipDryRunOnMissingResource=true,Delete=confirm,Force=true,Other=1',
  ]);
  assert.deepEqual(options, {
    raw: [
      'Prune=false',
      'PruneLast=true',
      'Replace=true',
      'ServerSideApply=false',
      'Validate=false',
      'SkipDryRunOnMissingResource=true',
      'Delete=confirm',
      'Force=true',
      'Other=1',
    ],
    prune: 'false',
    delete: 'confirm',
    pruneLast: true,
    replace: true,
    force: true,
    serverSideApply: false,
    validate: false,
    skipDryRunOnMissingResource: true,
    applyOutOfSyncOnly: false,
    createNamespace: false,
    prunePropagationPolicy: 'Foreground',
  });
  const empty = { raw: [], pruneLast: false, force: false, validate: true, skipDryRunOnMissingResource: false };
  assert.deepEqual(parseSyncOptions([]), { ...empty, applyOutOfSyncOnly: false, createNamespace: false, prunePropagationPolicy: 'Foreground' });
  const app = parseSyncOptions(['CreateNamespace=true,ApplyOutOfSyncOnly=true', 'PrunePropagationPolicy=orphan']);
  assert.deepEqual([app.createNamespace, app.applyOutOfSyncOnly, app.prunePropagationPolicy], [true, true, 'Orphan']);
  assert.equal(parseSyncOptions(['PrunePropagationPolicy=background']).prunePropagationPolicy, 'Background');
  // Argo CD matches the lowercase text exactly; anything else is its default, foreground.
  assert.equal(parseSyncOptions(['PrunePropagationPolicy=Orphan']).prunePropagationPolicy, 'Foreground');
  // Argo CD matches the exact text: "PruneLast=True" is not PruneLast.
  assert.equal(parseSyncOptions(['PruneLast=True']).pruneLast, false);
});

test('a plan is plain data that survives a Temporal payload round trip', () => {
  const plan = planSync(loadFolder('sync-waves-demo', ['application.yaml']), { namespace: 'sync-demo' });
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
});

test('a SyncFail hook is never pulled into the sync as a dependency (found by the sync plan property)', () => {
  const widget: ManifestResource = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a', annotations: {} } };
  const crdSpec = { spec: { group: 'example.com', names: { kind: 'Widget' } } } as Partial<ManifestResource>;
  const crd = resource('CustomResourceDefinition', 'widgets.example.com', { 'argocd.argoproj.io/hook': 'SyncFail' }, crdSpec);
  const plan = planSync([widget, crd]);
  assert.deepEqual(steps(plan), [['Sync', 0, ['Widget/a']]]);
  assert.deepEqual(
    plan.syncFail.map((t) => t.resource.metadata.name),
    ['widgets.example.com'],
  );
});
