// Properties of the sync planner over generated manifests (waves, hooks, sync options,
// live-only resources, prune options): a plan always comes back (or a named refusal), its
// steps keep phase and wave order, every resource from Git is applied once or excluded
// with a reason, a Namespace comes no later than what lands in it, and nothing that sync
// options protect is ever pruned. SLUICE_PROPERTY_SEED and SLUICE_PROPERTY_RUNS reproduce a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planSync, SyncPlanError, type SyncPlan, type SyncPlanOptions } from '../../domain/sync/plan';
import { phasesOf, resourceKey, SyncAnnotationError, syncOptionsOf, type ManifestResource } from '../../domain/sync/resources';
import { propertyOptions } from '../support/property-options';

const KINDS: [string, string][] = [
  ['v1', 'Namespace'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
  ['batch/v1', 'Job'],
  ['v1', 'Pod'],
  ['example.com/v1', 'Widget'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
];
const PHASE_ORDER = { PreSync: -1, Sync: 0, PostSync: 1 } as const;

const annotationsArb = fc
  .record({
    wave: fc.option(fc.oneof(fc.integer({ min: -3, max: 3 }).map(String), fc.constant('soon')), { nil: undefined }),
    hook: fc.option(fc.constantFrom('PreSync', 'Sync', 'PostSync', 'SyncFail', 'Skip', 'PreDelete', 'PostDelete', 'PreSync,PostSync', 'Bogus'), {
      nil: undefined,
    }),
    policy: fc.option(fc.constantFrom('HookSucceeded', 'HookFailed', 'BeforeHookCreation', 'Never'), { nil: undefined }),
    options: fc.option(fc.constantFrom('Prune=false', 'Prune=confirm', 'PruneLast=true', 'Prune=false,PruneLast=true', 'Replace=true', 'Prune=true'), {
      nil: undefined,
    }),
  })
  .map(({ wave, hook, policy, options }) => {
    const a: Record<string, string> = {};
    if (wave !== undefined) a['argocd.argoproj.io/sync-wave'] = wave;
    if (hook !== undefined) a['argocd.argoproj.io/hook'] = hook;
    if (policy !== undefined) a['argocd.argoproj.io/hook-delete-policy'] = policy;
    if (options !== undefined) a['argocd.argoproj.io/sync-options'] = options;
    return a;
  });

const resourceArb: fc.Arbitrary<ManifestResource> = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
    namespace: fc.constantFrom(undefined, 'shop', 'b', 'other'),
    annotations: annotationsArb,
    generateNameOnly: fc.boolean(),
  })
  .map(({ kind: [apiVersion, kind], name, namespace, annotations, generateNameOnly }) => {
    const r: ManifestResource = { apiVersion, kind, metadata: { name, annotations } };
    if (kind !== 'Namespace' && kind !== 'CustomResourceDefinition' && namespace) r.metadata.namespace = namespace;
    if (kind === 'CustomResourceDefinition')
      Object.assign(r, { metadata: { ...r.metadata, name: `widgets.${name}` }, spec: { group: 'example.com', names: { kind: 'Widget' } } });
    if (generateNameOnly && annotations['argocd.argoproj.io/hook'])
      r.metadata = { ...r.metadata, name: undefined as unknown as string, generateName: `${name}-` };
    return r;
  });

const scenarioArb = fc.record({
  resources: fc.array(resourceArb, { maxLength: 10 }),
  liveOnly: fc.array(resourceArb, { maxLength: 5 }),
  prune: fc.boolean(),
  pruneLast: fc.boolean(),
  defaultPruneOption: fc.constantFrom(undefined, 'false', 'confirm'),
  skipHooks: fc.boolean(),
  outOfSync: fc.option(fc.array(fc.constantFrom<string>('a', 'b', 'c', 'd'), { maxLength: 3 }), { nil: undefined }),
  namespace: fc.constantFrom(undefined, 'shop', 'b'),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

function plan(s: Scenario): SyncPlan | undefined {
  const inGit = new Set(s.resources.filter((r) => r.metadata.name).map(resourceKey));
  const options: SyncPlanOptions = {
    // Live objects: one per key, as the cluster holds them.
    liveOnly: s.liveOnly.filter(
      (r, i) => r.metadata.name && !inGit.has(resourceKey(r)) && s.liveOnly.findIndex((o) => o.metadata.name && resourceKey(o) === resourceKey(r)) === i,
    ),
    prune: s.prune,
    pruneLast: s.pruneLast,
    defaultPruneOption: s.defaultPruneOption,
    skipHooks: s.skipHooks,
    namespace: s.namespace,
    hookNaming: { revision: '0123456789abcdef', startedAtUnixSeconds: 1_700_000_000 },
    ...(s.outOfSync ? { outOfSyncOnly: s.resources.filter((r) => r.metadata.name && s.outOfSync!.includes(r.metadata.name)).map(resourceKey) } : {}),
  };
  try {
    return planSync(s.resources, options);
  } catch (err) {
    // A named refusal (a bad annotation, a duplicate) is an answer; anything else is a bug.
    if (err instanceof SyncAnnotationError || err instanceof SyncPlanError) return undefined;
    throw err;
  }
}

const isHookResource = (r: ManifestResource) => !!r.metadata.annotations?.['argocd.argoproj.io/hook'];

test('sync plans keep phase and wave order, apply each resource once, and prune only what options allow', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const p = plan(s);
      if (!p) return;
      const order = p.steps.map((step) => [PHASE_ORDER[step.phase], step.wave] as const);
      for (let i = 1; i < order.length; i++) {
        const [a, b] = [order[i - 1], order[i]];
        assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]), `steps out of order: ${JSON.stringify(order)}`);
      }
      const tasks = p.steps.flatMap((step) => step.tasks.map((t) => ({ ...t, stepPhase: step.phase, stepWave: step.wave })));
      for (const t of tasks) assert.ok(t.phase === t.stepPhase && t.wave === t.stepWave, `${t.key} sits in a step of another phase or wave`);

      // Every resource from Git: applied once, or excluded with a reason, or a hook per phase.
      const excludedKeys = new Set(p.excluded.map((e) => e.key));
      for (const r of s.resources.filter((r) => r.metadata.name && !isHookResource(r))) {
        const key = resourceKey(r);
        const applied = tasks.filter((t) => t.key === key && t.action === 'apply').length;
        assert.ok(applied === 1 || (applied === 0 && excludedKeys.has(key)), `${key} applied ${applied} times`);
      }

      // Prunes: only with prune on, never a Prune=false (own or the Application's), never a hook or a resource in Git.
      const inGit = new Set(s.resources.filter((r) => r.metadata.name).map(resourceKey));
      for (const t of tasks.filter((t) => t.action === 'prune')) {
        assert.ok(s.prune, `${t.key} pruned without prune`);
        const own = syncOptionsOf(t.resource).prune;
        assert.notEqual(own ?? s.defaultPruneOption, 'false', `${t.key} pruned despite Prune=false`);
        assert.equal(t.requiresPruneConfirmation, (own ?? s.defaultPruneOption) === 'confirm', `${t.key}: Prune=confirm not honoured`);
        assert.ok(!inGit.has(t.key), `${t.key} is in Git and pruned`);
        assert.ok(!isHookResource(t.resource), `${t.key} is a hook and pruned`);
        if (s.pruneLast || syncOptionsOf(t.resource).pruneLast) {
          const lastOther = Math.max(
            0,
            ...tasks.filter((o) => o.phase === 'Sync' && !(o.action === 'prune' && (s.pruneLast || o.syncOptions.pruneLast))).map((o) => o.wave),
          );
          assert.ok(t.wave > lastOther, `${t.key} is PruneLast but in wave ${t.wave}, not after ${lastOther}`);
        }
      }
      for (const skip of p.pruneSkipped)
        assert.ok(!tasks.some((t) => t.key === skip.task.key && t.action === 'prune'), `${skip.task.key} both skipped and pruned`);

      // No hooks with skipHooks; a Namespace from Git no later than what lands in it.
      if (s.skipHooks) assert.ok(!tasks.some((t) => t.isHook), 'a hook ran with skipHooks');
      const stepOf = (key: string) => p.steps.findIndex((step) => step.tasks.some((t) => t.key === key && t.action !== 'prune'));
      for (const t of tasks.filter((t) => t.action !== 'prune')) {
        const ns = t.resource.metadata.namespace || s.namespace;
        if (!ns) continue;
        const nsStep = stepOf(resourceKey({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
        if (nsStep >= 0) assert.ok(nsStep <= stepOf(t.key), `${t.key} comes before its Namespace ${ns}`);
      }
      // SyncFail hooks never run in the steps; a hook runs once per phase it names.
      for (const t of p.syncFail) assert.equal(t.phase, 'SyncFail');
      for (const r of s.resources.filter((r) => isHookResource(r) && r.metadata.name && !s.skipHooks)) {
        const phases: string[] = phasesOf(r).filter((ph) => ph !== 'SyncFail'); // valid: the plan came back
        // A hook that is a Namespace or CRD something needs earlier moves there (gitops-engine's adjustDeps).
        const runs = tasks.filter((t) => t.key === resourceKey(r));
        assert.equal(runs.length, phases.length, `${resourceKey(r)} runs ${runs.length} times for ${phases.join(', ')}`);
        for (const t of runs) assert.ok(phases.includes(t.phase) || t.neededBy, `${t.key} runs in ${t.phase}`);
      }
    }),
    propertyOptions(400),
  );
});
