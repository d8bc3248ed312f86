// One sync operation of an Application (sync/<ns>/<app>/<n>): plan (pure, gitops-engine's
// order), then PreSync → Sync → PostSync, wave by wave, each wave waiting until the previous
// one is synced and healthy, hooks run and cleaned up by their delete policies, prunes in
// reverse order; SyncFail hooks when it fails. It runs inside the Application's workflow
// (runSync, patch `app-inline-sync`), whose history is then the operation's whole story; a
// worker killed mid-wave resumes at that wave. Runs started before the patch ran it as a
// child workflow of that ID (applicationSyncWorkflow), which stays registered for them.
import { CancellationScope, isCancellation, log, proxyActivities, proxyLocalActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { ApplicationActivities } from '../activities/application';
import type { SyncActivities } from '../activities/sync';
import type { ResourceResult, SyncResult, SyncWorkflowInput } from '../domain/applications/types';
import { describePlan, planSync, type SyncPlan, type SyncTask } from '../domain/sync/plan';
import { groupOf, parseSyncOptions, type ManifestResource } from '../domain/sync/resources';
import { taskResult } from '../domain/sync/results';

// Every step heartbeats, so a worker killed mid-step hands it on within the heartbeat timeout.
const kube = proxyActivities<SyncActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});
// Waiting for a person: each call waits up to a minute, heartbeating.
const confirmations = proxyActivities<ApplicationActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
});
// The short steps (prepare, create the namespace, apply a wave, a first look at its health)
// as local activities: one workflow task for a simple sync instead of a server round trip
// per step. Each is idempotent (server-side apply), so a worker lost mid-task simply runs
// them again on replay. Waits that may last (hooks, an unhealthy wave) stay ordinary,
// heartbeating activities, so another worker takes them over within seconds.
const localKube = proxyLocalActivities<SyncActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});
const localSource = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});
/** How long the local first look at a wave's health may wait before an ordinary, heartbeating wait takes over. */
const LOCAL_HEALTH_LOOK_MS = 1500;

class SyncFailed extends Error {}

/** The child workflow of runs started before `app-inline-sync`: the same steps, its own history. */
export async function applicationSyncWorkflow(input: SyncWorkflowInput): Promise<SyncResult> {
  return runSync(input, workflowInfo().workflowId);
}

/**
 * One sync operation, in whichever workflow calls it. `operation` names it
 * (sync/<ns>/<app>/<n>): hooks are marked with it so a retried step never recreates its own hook.
 * `oneStepWave`: a wave without hooks is applied and first looked at in one local activity
 * (applyWaveAndLook) rather than two; the child workflow of older runs keeps two.
 */
export async function runSync(input: SyncWorkflowInput, operation: string, opts: { oneStepWave?: boolean } = {}): Promise<SyncResult> {
  const { spec, request } = input;
  const results: ResourceResult[] = [];
  const options = parseSyncOptions(spec.syncPolicy?.syncOptions ?? []);
  const namespace = spec.destination?.namespace ?? '';
  // Every step acts on the destination cluster (the activities resolve it from the cluster Secrets).
  const destination = spec.destination ? { server: spec.destination.server, name: spec.destination.name } : undefined;
  const waitTimeout = (ms: number) => ({ startToCloseTimeout: ms + 30_000, heartbeatTimeout: 10_000 });
  const waits = proxyActivities<SyncActivities>({
    ...waitTimeout(Math.max(input.hookTimeoutMs, input.waveTimeoutMs)),
    retry: { initialInterval: '1s', maximumInterval: '5s' },
  });

  let plan: SyncPlan;
  let revision = input.revision;
  try {
    const prepared = await localSource.prepareSync({
      app: input.app,
      instance: input.instance,
      spec,
      kinds: input.kinds ?? [],
      known: input.known,
      revision: input.revision,
      freshSinceMs: input.revision ? undefined : Date.parse(input.startedAt),
    });
    revision = prepared.revision;
    let manifests: ManifestResource[] = prepared.manifests;
    const only = request.resources?.length ? new Set(request.resources) : undefined;
    if (only) manifests = manifests.filter((m) => only.has(`${groupOf(m.apiVersion)}/${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`));
    plan = planSync(manifests, {
      liveOnly: only ? [] : prepared.liveOnly,
      prune: request.prune ?? false,
      pruneLast: options.pruneLast,
      defaultPruneOption: options.prune,
      namespace,
      skipHooks: !!only || request.dryRun,
      ...(options.applyOutOfSyncOnly && input.outOfSync ? { outOfSyncOnly: input.outOfSync } : {}),
      hookNaming: { revision, startedAtUnixSeconds: Math.floor(Date.parse(input.startedAt) / 1000) },
    });
  } catch (err) {
    const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return { phase: 'Error', message: `ComparisonError: ${message}`, resources: [], revision };
  }
  log.debug('sync plan', { plan: describePlan(plan) });
  setCurrentDetails(describePlan(plan).join('\n'));

  const hookTimeout = input.hookTimeoutMs;
  const runHooks = async (tasks: SyncTask[]) => {
    for (const t of tasks)
      await kube.runHook({ manifest: t.resource, operation, beforeHookCreation: t.deletePolicies.includes('BeforeHookCreation'), destination });
    const outcomes = await Promise.all(tasks.map((t) => waits.awaitHook({ manifest: t.resource, timeoutMs: hookTimeout, destination })));
    const failed: string[] = [];
    const toDelete: ManifestResource[] = [];
    tasks.forEach((t, i) => {
      const o = outcomes[i];
      results.push(taskResult(t, o.phase === 'Succeeded' ? 'Synced' : 'SyncFailed', o.message, { hookPhase: o.phase }));
      if (o.phase === 'Failed') failed.push(o.message);
      if (t.deletePolicies.includes(o.phase === 'Succeeded' ? 'HookSucceeded' : 'HookFailed')) toDelete.push(t.resource);
    });
    if (toDelete.length > 0) await kube.deleteResources({ manifests: toDelete, propagationPolicy: 'Background', destination });
    if (failed.length > 0) throw new SyncFailed(failed.join('; '));
  };

  // Prune=confirm, as gitops-engine does it: nothing of the operation runs until the
  // Application approves the deletions (argocd.argoproj.io/deletion-approved, set by
  // `sluice app confirm-deletion`) at or after the operation's start.
  const toConfirm = plan.steps.flatMap((s) => s.tasks).filter((t) => t.action === 'prune' && t.requiresPruneConfirmation);
  let pruneConfirmed = false;
  if (toConfirm.length > 0 && !request.dryRun) {
    const first = toConfirm[0]!.resource;
    const message = `Waiting for pruning confirmation of ${first.apiVersion}/${first.kind}/${first.metadata.name}${toConfirm.length > 1 ? ` and ${toConfirm.length - 1} more resources` : ''}`;
    setCurrentDetails(message);
    try {
      while (!(await confirmations.awaitPruneConfirmation({ app: input.app, startedAt: input.startedAt, message, waitMs: 60_000 }))) {
        // still waiting: ask again (each call is bounded so a terminate is seen promptly)
      }
    } catch (err) {
      if (isCancellation(err)) return { phase: 'Failed', message: 'Operation terminated', resources: results, revision };
      throw err;
    }
    pruneConfirmed = true;
  }

  try {
    if (options.createNamespace && namespace && !request.dryRun) await localKube.ensureNamespace(namespace, destination);
    for (const step of plan.steps) {
      setCurrentDetails(`${step.phase} wave ${step.wave}: ${step.tasks.map((t) => `${t.resource.kind}/${t.resource.metadata.name}`).join(', ')}`);
      const prunes = step.tasks.filter((t) => t.action === 'prune' && (!t.requiresPruneConfirmation || pruneConfirmed));
      const applies = step.tasks.filter((t) => t.action === 'apply');
      const hooks = step.tasks.filter((t) => t.action === 'create-hook');
      if (prunes.length > 0) {
        results.push(
          ...(await kube.deleteResources({
            manifests: prunes.map((t) => t.resource),
            propagationPolicy: options.prunePropagationPolicy,
            dryRun: request.dryRun,
            destination,
          })),
        );
      }
      let firstLook: { healthy: boolean; message: string; timedOut?: boolean } | undefined;
      if (applies.length > 0) {
        const wave = {
          manifests: applies.map((t) => t.resource),
          phase: step.phase,
          dryRun: request.dryRun,
          replace: options.replace,
          validate: options.validate,
          destination,
        };
        let applied: typeof results;
        if (opts.oneStepWave && (hooks.length === 0 || request.dryRun)) {
          const answer = await localKube.applyWaveAndLook({ ...wave, lookMs: LOCAL_HEALTH_LOOK_MS });
          applied = answer.applied;
          firstLook = answer.health;
        } else applied = await localKube.applyWave(wave);
        results.push(...applied);
        const failed = applied.filter((r) => r.status === 'SyncFailed');
        if (failed.length > 0) throw new SyncFailed(failed.map((r) => `${r.kind}/${r.name}: ${r.message}`).join('; '));
      }
      if (hooks.length > 0 && !request.dryRun) await runHooks(hooks);
      if (applies.length > 0 && !request.dryRun) {
        const manifests = applies.map((t) => t.resource);
        // Most waves (ConfigMaps, Services, an already rolled-out Deployment) are healthy, or
        // Degraded, at once: only a wave still progressing needs the ordinary, heartbeating wait.
        firstLook ??= await localKube.awaitWaveHealthy({ manifests, timeoutMs: LOCAL_HEALTH_LOOK_MS, destination });
        const health = !firstLook.timedOut ? firstLook : await waits.awaitWaveHealthy({ manifests, timeoutMs: input.waveTimeoutMs, destination });
        if (!health.healthy) throw new SyncFailed(`${step.phase} wave ${step.wave}: ${health.message}`);
      }
    }
  } catch (err) {
    if (isCancellation(err)) {
      return { phase: 'Failed', message: 'Operation terminated', resources: results, revision };
    }
    if (!(err instanceof SyncFailed)) throw err;
    if (plan.syncFail.length > 0) {
      await CancellationScope.nonCancellable(() => runHooks(plan.syncFail)).catch(() => undefined);
    }
    return { phase: 'Failed', message: `one or more synchronization tasks completed unsuccessfully, reason: ${err.message}`, resources: results, revision };
  }
  for (const skip of plan.pruneSkipped) results.push(taskResult(skip.task, 'PruneSkipped', skip.message));
  return {
    phase: 'Succeeded',
    message: request.dryRun ? 'successfully synced (dry run)' : 'successfully synced (all tasks run)',
    resources: results,
    revision,
  };
}
