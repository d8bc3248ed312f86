import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateValidated, type GeneratedApplication } from '../../domain/applicationsets/generate';
import { applyUpdate, planApplications, planIsEmpty, type ApplicationsPlan } from '../../domain/applicationsets/plan';
import type { ApplicationSet, ApplicationsSyncPolicy } from '../../domain/applicationsets/types';
import type { KubeObject } from '../../domain/objects';
import { appSet, fakeContext } from '../support/applicationsets';

const gen = (name: string, extra: Record<string, any> = {}): GeneratedApplication => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: 'argocd', finalizers: ['resources-finalizer.argocd.argoproj.io'], ...(extra.metadata ?? {}) },
  spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: name }, ...(extra.spec ?? {}) },
});

/** What the API server holds after a plan is carried out. */
function apply(live: KubeObject[], plan: ApplicationsPlan): KubeObject[] {
  const byName = new Map(live.map((a) => [a.metadata.name, a]));
  for (const c of plan.create)
    byName.set(c.metadata.name, structuredClone({ ...c, metadata: { ...c.metadata, uid: `u-${c.metadata.name}` }, status: { health: 'Healthy' } }));
  for (const u of plan.update) byName.set(u.name, applyUpdate(byName.get(u.name)!, u));
  for (const d of plan.delete) byName.delete(d);
  return [...byName.values()];
}

const withPolicy = (p?: ApplicationsSyncPolicy, extra: Partial<ApplicationSet['spec']> = {}) =>
  appSet({ syncPolicy: p ? { applicationsSync: p } : undefined, ...extra });

test('sync: creates with the controller reference, updates what changed, deletes what is no longer generated', () => {
  const a = withPolicy();
  const first = planApplications(a, { applications: [gen('one'), gen('two')] }, []);
  assert.deepEqual(
    first.create.map((c) => c.metadata.name),
    ['one', 'two'],
  );
  assert.deepEqual(first.create[0]!.metadata.ownerReferences, [
    { apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', name: 'set', uid: 'uid-set', controller: true, blockOwnerDeletion: true },
  ]);
  let live = apply([], first);
  live.push({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'handmade', namespace: 'argocd' }, spec: {} });
  const second = planApplications(a, { applications: [gen('one', { spec: { project: 'other' } })] }, live);
  assert.deepEqual(second.update, [{ name: 'one', patch: { spec: { project: 'other' } } }]);
  assert.deepEqual(second.delete, ['two']); // not the Application it does not own
  live = apply(live, second);
  assert.ok(planIsEmpty(planApplications(a, { applications: [gen('one', { spec: { project: 'other' } })] }, live)));
});

test('applicationsSync: create-only neither updates nor deletes; create-update never deletes; create-delete never updates', () => {
  const live = apply([], planApplications(withPolicy(), { applications: [gen('one'), gen('two')] }, []));
  const next = { applications: [gen('one', { spec: { project: 'x' } }), gen('three')] };
  const plans = Object.fromEntries(
    (['create-only', 'create-update', 'create-delete', 'sync'] as const).map((p) => {
      const plan = planApplications(withPolicy(p), next, live);
      return [p, { create: plan.create.map((c) => c.metadata.name), update: plan.update.map((u) => u.name), delete: plan.delete }];
    }),
  );
  assert.deepEqual(plans, {
    'create-only': { create: ['three'], update: [], delete: [] },
    'create-update': { create: ['three'], update: ['one'], delete: [] },
    'create-delete': { create: ['three'], update: [], delete: ['two'] },
    sync: { create: ['three'], update: ['one'], delete: ['two'] },
  });
});

test('a failed generation plans nothing at all', () => {
  const live = apply([], planApplications(withPolicy(), { applications: [gen('one')] }, []));
  assert.ok(planIsEmpty(planApplications(withPolicy(), { error: 'git unreachable' }, live)));
});

test('preservedFields keep live annotations and labels; default ones too; others are replaced', () => {
  const a = withPolicy(undefined, { preservedFields: { annotations: ['keep'], labels: ['keep-label'] } });
  const [created] = apply([], planApplications(a, { applications: [gen('one')] }, []));
  created!.metadata.annotations = { keep: 'k', drop: 'd', 'notified.notifications.argoproj.io': '{}' };
  created!.metadata.labels = { 'keep-label': 'v', other: 'o' };
  created!.metadata.finalizers = [...created!.metadata.finalizers!, 'post-delete-finalizer.argocd.argoproj.io/cleanup'];
  const plan = planApplications(a, { applications: [gen('one')] }, [created!]);
  assert.deepEqual(plan.update[0]!.patch, { metadata: { annotations: { drop: null }, labels: { other: null } } });
});

test('ignoreApplicationDifferences: jsonPointers (all or by name) leave the live value; jq through the given runner', () => {
  const a = withPolicy(undefined, { ignoreApplicationDifferences: [{ jsonPointers: ['/spec/syncPolicy'] }, { name: 'two', jsonPointers: ['/spec/project'] }] });
  const live = apply([], planApplications(a, { applications: [gen('one'), gen('two')] }, []));
  for (const l of live) l.spec.syncPolicy = { automated: {} };
  const changed = { applications: [gen('one', { spec: { project: 'p' } }), gen('two', { spec: { project: 'p' } })] };
  const plan = planApplications(a, changed, live);
  assert.deepEqual(plan.update, [{ name: 'one', patch: { spec: { project: 'p' } } }]);
  const jq = withPolicy(undefined, { ignoreApplicationDifferences: [{ jqPathExpressions: ['.spec.project'] }] });
  const seen: string[][] = [];
  const stripJq = (view: Record<string, any>, e: readonly string[]) => {
    seen.push([...e]);
    const { project: _, ...spec } = view.spec;
    return { ...view, spec };
  };
  assert.ok(planIsEmpty(planApplications(jq, changed, apply([], planApplications(jq, { applications: [gen('one'), gen('two')] }, [])), stripJq)));
  assert.deepEqual(seen[0], ['.spec.project']);
  assert.throws(() => planApplications(jq, changed, live));
});

test('an Application another controller owns is left alone and reported', () => {
  const other: KubeObject = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'one',
      namespace: 'argocd',
      ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', name: 'another', uid: 'x', controller: true }],
    },
    spec: {},
  };
  const plan = planApplications(withPolicy(), { applications: [gen('one')] }, [other]);
  assert.deepEqual([plan.update, plan.delete], [[], []]);
  assert.match(plan.problems[0]!, /already owned by another controller: ApplicationSet another/);
});

// Properties: generation and plan over random list elements and random failures.
const envName = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const element = fc.record({ env: envName, ns: fc.constantFrom('a', 'b', 'c'), rev: fc.constantFrom('HEAD', 'v1', 'v2') });
const elements = fc.uniqueArray(element, { selector: (e) => e.env, maxLength: 8 });
const policy = fc.constantFrom<ApplicationsSyncPolicy>('create-only', 'create-update', 'create-delete', 'sync');

const listAppSet = (els: unknown[], p: ApplicationsSyncPolicy) =>
  appSet({
    syncPolicy: { applicationsSync: p },
    preservedFields: { annotations: ['keep'] },
    ignoreApplicationDifferences: [{ jsonPointers: ['/spec/source/targetRevision'] }],
    template: {
      metadata: { name: 'app-{{env}}', annotations: { env: '{{env}}' } },
      spec: {
        project: 'default',
        source: { repoURL: 'r', targetRevision: '{{rev}}' },
        destination: { server: 'https://kubernetes.default.svc', namespace: '{{ns}}' },
      },
    },
    generators: [{ list: { elements: els } }],
  });

const inputs = { projects: new Set(['default']), clusterNames: new Set(['in-cluster']), clusterServers: new Set(['https://kubernetes.default.svc']) };

test('property: applying a plan and planning again changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(elements, elements, policy, async (before, after, p) => {
      let live = apply([], planApplications(listAppSet(before, 'sync'), await generateValidated(fakeContext(listAppSet(before, 'sync')), inputs), []));
      const set = listAppSet(after, p);
      const outcome = await generateValidated(fakeContext(set), inputs);
      live = apply(live, planApplications(set, outcome, live));
      const again = planApplications(set, outcome, live);
      assert.ok(planIsEmpty(again), JSON.stringify(again));
      // With sync, the live set is exactly the generated one.
      if (p === 'sync') assert.deepEqual(live.map((a) => a.metadata.name).sort(), after.map((e) => `app-${e.env}`).sort());
    }),
    { numRuns: 150 },
  );
});

test('property: a failing generator never yields a delete or an update, whatever came before', async () => {
  await fc.assert(
    fc.asyncProperty(elements, policy, fc.constantFrom('git', 'element', 'duplicate'), async (before, p, failure) => {
      const live = apply([], planApplications(listAppSet(before, 'sync'), await generateValidated(fakeContext(listAppSet(before, 'sync')), inputs), []));
      let set: ApplicationSet;
      if (failure === 'git') {
        set = listAppSet(before, p);
        set.spec.generators!.push({ git: { repoURL: 'https://nowhere', directories: [{ path: '*' }] } });
      } else if (failure === 'element') set = listAppSet([...before, { env: 1 }], p);
      else set = listAppSet([...before, ...before.slice(0, 1), { env: 'x', ns: 'a', rev: 'v1' }, { env: 'x', ns: 'b', rev: 'v1' }], p);
      const outcome = await generateValidated(fakeContext(set, { failGit: true }), inputs);
      assert.ok('error' in outcome);
      assert.ok(planIsEmpty(planApplications(set, outcome, live)));
    }),
    { numRuns: 100 },
  );
});

test('AppProject boundaries: a violating Application is named with the rule, neither created nor updated nor deleted; the others proceed', async () => {
  const team = {
    metadata: { name: 'team', namespace: 'argocd' },
    spec: {
      sourceRepos: ['https://git.example/team/*'],
      destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'team-*' }],
    },
  };
  const a = appSet({
    generators: [
      {
        list: {
          elements: [
            { env: 'dev', repo: 'https://git.example/team/app', ns: 'team-dev' },
            { env: 'prod', repo: 'https://git.example/team/app', ns: 'kube-system' },
            { env: 'qa', repo: 'https://git.example/other/app', ns: 'team-qa' },
          ],
        },
      },
    ],
    template: {
      metadata: { name: 'app-{{env}}' },
      spec: { project: 'team', source: { repoURL: '{{repo}}', path: '.' }, destination: { server: 'https://kubernetes.default.svc', namespace: '{{ns}}' } },
    },
  });
  const inputs = {
    projects: new Set(['team']),
    clusterNames: new Set(['in-cluster']),
    clusterServers: new Set(['https://kubernetes.default.svc']),
    boundaries: {
      projects: new Map([['team', { project: team, namespace: 'argocd' }]]),
      clusters: [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }],
    },
  };
  const out = await generateValidated(fakeContext(a, { projects: ['team'] }), inputs);
  assert.ok('applications' in out);
  assert.deepEqual(
    out.violations!.map((v) => v.name),
    ['app-prod', 'app-qa'],
  );
  assert.match(
    out.violations![0]!.message,
    /^Application app-prod violates AppProject team: .*namespace 'kube-system' do not match any of the allowed destinations/,
  );
  assert.match(
    out.violations![1]!.message,
    /^Application app-qa violates AppProject team: application repo https:\/\/git.example\/other\/app is not permitted/,
  );

  // First pass: only the allowed one is created.
  const first = planApplications(a, out, []);
  assert.deepEqual(
    first.create.map((c) => c.metadata.name),
    ['app-dev'],
  );
  assert.deepEqual(
    first.invalid,
    out.violations!.map((v) => v.message),
  );
  // An app-prod created before the project narrowed stays exactly as it is: no update, no delete.
  const stale = {
    ...first.create[0]!,
    metadata: { ...first.create[0]!.metadata, name: 'app-prod' },
    spec: { project: 'team', destination: { namespace: 'old' } },
  };
  const live = apply([stale], first);
  const second = planApplications(a, out, live);
  assert.deepEqual([second.create, second.update, second.delete], [[], [], []]);
  assert.equal(second.invalid!.length, 2);
  // Without the violation it would have been updated.
  assert.deepEqual(
    planApplications(a, { applications: out.applications }, live).update.map((u) => u.name),
    ['app-prod'],
  );
  // A default project nobody created permits everything.
  const free = await generateValidated(fakeContext(a, { projects: ['team'] }), {
    ...inputs,
    boundaries: { ...inputs.boundaries, projects: new Map([['team', undefined]]) },
  });
  assert.ok('applications' in free && free.violations === undefined);
});
