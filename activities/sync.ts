// The steps of a sync, each an idempotent activity: apply a wave (server-side apply as
// field manager "sluice"), wait until it is healthy, create a hook and wait for it to
// finish, delete hooks by their policies, prune. Long waits heartbeat, so a worker that
// dies mid-wait hands the step to another within seconds.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { failsResource, isConflict, isNotFound, isSchemaMismatch, resourcePath, Resources, type KubeClient, type ResourceRef } from '../k8s/kube-client';
import { assessHealth } from '../domain/health';
import type { ResourceResult } from '../domain/applications/types';
import { describeResource, syncOptionsOf, type PropagationPolicy, type ManifestResource } from '../domain/sync/resources';
import { resourceResult } from '../domain/sync/results';
import { FIELD_MANAGER, SYNC_OPERATION_ANNOTATION } from '../domain/argo/names';
import { Discovery } from './discovery';
import { heartbeat, whileHeartbeating } from './heartbeats';
import { ClusterClients, type Destination } from '../k8s/clusters';
import { SourceRefusedError } from '../domain/applications/source-safety';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type FieldValidation = 'Strict' | 'Ignore';

/**
 * kubectl's --validate, which Argo CD's apply uses: Strict by default (an unknown or
 * duplicate field is refused), Ignore with Validate=false (dropped silently).
 */
export const fieldValidationFor = (validate: boolean): FieldValidation => (validate ? 'Strict' : 'Ignore');

export interface ApplyWaveInput {
  manifests: ManifestResource[];
  phase: string;
  dryRun?: boolean;
  replace?: boolean;
  /** false: the Application's Validate=false (a resource's own annotation also turns it off). */
  validate?: boolean;
}

/** Which cluster a step acts on: the Application's destination (absent: the cluster Sluice runs against). */
export interface OnCluster {
  destination?: Destination;
}

/**
 * The sync steps, each run on the Application's destination cluster (a client per
 * registered cluster, see clusters.ts). A destination nobody registers any more fails the
 * step without retries; its message names the cluster, never its credentials.
 */
export function createSyncActivities(kube: KubeClient, clusters = new ClusterClients(kube)) {
  const local = syncSteps(kube);
  const remote = new WeakMap<KubeClient, ReturnType<typeof syncSteps>>();
  async function on(destination: Destination | undefined): Promise<ReturnType<typeof syncSteps>> {
    let client: KubeClient;
    try {
      ({ kube: client } = await clusters.forDestination(destination));
    } catch (err) {
      if (err instanceof SourceRefusedError) throw ApplicationFailure.nonRetryable(err.message, 'UnknownCluster');
      throw err;
    }
    if (client === kube) return local;
    let steps = remote.get(client);
    if (!steps) remote.set(client, (steps = syncSteps(client)));
    return steps;
  }
  return {
    /** CreateNamespace=true: the destination namespace, created if absent. */
    ensureNamespace: async (name: string, destination?: Destination) => (await on(destination)).ensureNamespace(name),
    /** Server-side applies every resource of a wave; a refused resource is a SyncFailed result, not a retry. */
    applyWave: async (input: ApplyWaveInput & OnCluster) => (await on(input.destination)).applyWave(input),
    /** applyWave and the first look at the wave's health in one step (one workflow activation, not two). */
    applyWaveAndLook: async (input: ApplyWaveInput & { lookMs: number } & OnCluster) => (await on(input.destination)).applyWaveAndLook(input),
    /** Waits until every resource of the wave exists and is no longer Progressing. */
    awaitWaveHealthy: async (input: { manifests: ManifestResource[]; timeoutMs: number } & OnCluster) => (await on(input.destination)).awaitWaveHealthy(input),
    /** Creates a hook (BeforeHookCreation replaces an earlier one). */
    runHook: async (input: { manifest: ManifestResource; operation: string; beforeHookCreation: boolean } & OnCluster) =>
      (await on(input.destination)).runHook(input),
    /** Waits for a hook to finish. */
    awaitHook: async (input: { manifest: ManifestResource; timeoutMs: number } & OnCluster) => (await on(input.destination)).awaitHook(input),
    /** Deletes resources (hooks by policy, or prunes). */
    deleteResources: async (input: { manifests: ManifestResource[]; propagationPolicy?: PropagationPolicy; dryRun?: boolean } & OnCluster) =>
      (await on(input.destination)).deleteResources(input),
  };
}

function syncSteps(kube: KubeClient) {
  const discovery = new Discovery(kube);

  async function readLive(m: ManifestResource) {
    const ref = await discovery.resourceFor(m.apiVersion, m.kind);
    return kube.find<ManifestResource>(ref, m.metadata.namespace, m.metadata.name);
  }

  /** Waits until `done` says so; heartbeats; gives up at the deadline with `timeoutMessage`. */
  async function poll<T>(deadlineMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
    const cancelled = Context.current().cancellationSignal;
    while (Date.now() < deadlineMs) {
      const v = await check();
      if (v !== undefined) return v;
      heartbeat();
      if (cancelled.aborted) throw new Error('cancelled');
      await sleep(300);
    }
    return undefined;
  }

  /** applyWave's work, run while heartbeating (a kind may take seconds to be served). */
  /** Replace=true: create, or replace the whole object (a PUT), instead of a server-side apply. */
  async function replaceObject(
    ref: ResourceRef,
    m: ManifestResource,
    dryRun: boolean | undefined,
    fieldValidation: FieldValidation,
  ): Promise<'created' | 'replaced'> {
    const params = `?fieldManager=${FIELD_MANAGER}&fieldValidation=${fieldValidation}${dryRun ? '&dryRun=All' : ''}`;
    const existing = await kube.find(ref, m.metadata.namespace, m.metadata.name);
    if (!existing) {
      await kube.request('POST', resourcePath(ref, m.metadata.namespace) + params, m);
      return 'created';
    }
    const body = { ...m, metadata: { ...m.metadata, resourceVersion: existing.metadata.resourceVersion } };
    await kube.request('PUT', resourcePath(ref, m.metadata.namespace, m.metadata.name) + params, body);
    return 'replaced';
  }

  async function createOrMergePatch(ref: ResourceRef, m: ManifestResource, dryRun: boolean | undefined): Promise<'created' | 'configured'> {
    const params = `?fieldManager=${FIELD_MANAGER}&fieldValidation=Ignore${dryRun ? '&dryRun=All' : ''}`;
    if (!(await kube.find(ref, m.metadata.namespace, m.metadata.name))) {
      await kube.request('POST', resourcePath(ref, m.metadata.namespace) + params, m);
      return 'created';
    }
    await kube.request('PATCH', resourcePath(ref, m.metadata.namespace, m.metadata.name) + params, m, 'application/merge-patch+json');
    return 'configured';
  }

  /** `answers`, when given, gets the API server's answer to each server-side apply (the live object after it). */
  async function applyAll(input: ApplyWaveInput, answers?: (ManifestResource | undefined)[]): Promise<ResourceResult[]> {
    const results: ResourceResult[] = [];
    for (const m of input.manifests) {
      answers?.push(undefined);
      try {
        // A CRD applied in an earlier wave may take a few seconds to be served.
        const ref = await discovery.resourceForSoon(m.apiVersion, m.kind, 20_000);
        const own = syncOptionsOf(m);
        const replace = own.replace ?? input.replace ?? false;
        const fieldValidation = fieldValidationFor(own.validate && input.validate !== false);
        let verb = 'serverside-applied';
        if (replace) verb = await replaceObject(ref, m, input.dryRun, fieldValidation);
        else {
          try {
            const answer = await kube.patch<ManifestResource>(ref, m.metadata.namespace, m.metadata.name, m, {
              type: 'apply',
              fieldManager: FIELD_MANAGER,
              force: true,
              dryRun: input.dryRun,
              fieldValidation,
            });
            if (answers) answers[answers.length - 1] = answer;
          } catch (err) {
            // Validate=false is kubectl's --validate=false on a client-side apply: fields the
            // schema lacks are dropped. A server-side apply cannot drop them, so such an object
            // is created, or merge-patched, instead.
            if (fieldValidation !== 'Ignore' || !isSchemaMismatch(err)) throw err;
            verb = await createOrMergePatch(ref, m, input.dryRun);
          }
        }
        heartbeat();
        results.push(
          resourceResult(
            m,
            'Synced',
            input.dryRun ? `${m.kind}/${m.metadata.name} configured (dry run)` : `${m.kind.toLowerCase()}/${m.metadata.name} ${verb}`,
            input.phase,
          ),
        );
      } catch (err) {
        if (!failsResource(err) && !(err instanceof Error && err.name === 'UnknownKindError')) throw err;
        results.push(resourceResult(m, 'SyncFailed', (err as Error).message, input.phase));
      }
    }
    return results;
  }

  type WaveHealth = { healthy: boolean; message: string; timedOut?: boolean };

  /** The wave's health from objects just read: settled (healthy or not), or undefined while one is Progressing or missing. */
  function waveHealthOf(manifests: ManifestResource[], live: (ManifestResource | undefined)[]): WaveHealth | undefined {
    for (let i = 0; i < manifests.length; i++) {
      const obj = live[i];
      if (!obj) return undefined;
      const h = assessHealth(obj);
      if (!h || h.status === 'Healthy' || h.status === 'Suspended') continue;
      if (h.status === 'Degraded') return { healthy: false, message: `${describeResource(manifests[i]!)} is ${h.status}${h.message ? `: ${h.message}` : ''}` };
      return undefined;
    }
    return { healthy: true, message: '' };
  }

  const steps = {
    /** CreateNamespace=true: the destination namespace, created if absent. */
    async ensureNamespace(name: string): Promise<void> {
      try {
        await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    },

    /** Server-side applies every resource of a wave; a refused resource is a SyncFailed result, not a retry. */
    async applyWave(input: ApplyWaveInput): Promise<ResourceResult[]> {
      return whileHeartbeating(() => applyAll(input));
    },

    /**
     * Waits until every resource of the wave exists and is no longer Progressing. Degraded
     * or Missing at the deadline fail the wave with a message naming the resource.
     */
    async awaitWaveHealthy(input: { manifests: ManifestResource[]; timeoutMs: number }): Promise<{ healthy: boolean; message: string; timedOut?: boolean }> {
      let last = '';
      const outcome = await poll(Date.now() + input.timeoutMs, async () => {
        for (const m of input.manifests) {
          const live = await readLive(m);
          if (!live) {
            last = `${describeResource(m)} is Missing`;
            return undefined;
          }
          const h = assessHealth(live);
          if (!h || h.status === 'Healthy' || h.status === 'Suspended') continue;
          last = `${describeResource(m)} is ${h.status}${h.message ? `: ${h.message}` : ''}`;
          if (h.status === 'Degraded') return { healthy: false, message: last };
          return undefined;
        }
        return { healthy: true, message: '' };
      });
      return outcome ?? { healthy: false, message: `wave not healthy after ${Math.round(input.timeoutMs / 1000)}s: ${last}`, timedOut: true };
    },

    /**
     * applyWave, then (no dry run, nothing refused) a first look at the wave's health for up
     * to `lookMs`: from the apply's own answers when they settle it (a ConfigMap, a Service,
     * a Deployment already rolled out), which saves a GET per object, else as awaitWaveHealthy.
     */
    async applyWaveAndLook(input: ApplyWaveInput & { lookMs: number }): Promise<{ applied: ResourceResult[]; health?: WaveHealth }> {
      const answers: (ManifestResource | undefined)[] = [];
      const applied = await whileHeartbeating(() => applyAll(input, answers));
      if (input.dryRun || applied.some((r) => r.status === 'SyncFailed')) return { applied };
      const health = waveHealthOf(input.manifests, answers) ?? (await steps.awaitWaveHealthy({ manifests: input.manifests, timeoutMs: input.lookMs }));
      return { applied, health };
    },

    /**
     * Creates a hook. BeforeHookCreation deletes an earlier hook of the same name first
     * (waiting until it is gone); a hook this same operation created is kept, so a retry
     * after a lost response does not run the hook twice.
     */
    async runHook(input: { manifest: ManifestResource; operation: string; beforeHookCreation: boolean }): Promise<void> {
      const m = input.manifest;
      const ref = await discovery.resourceFor(m.apiVersion, m.kind);
      const existing = await kube.find(ref, m.metadata.namespace, m.metadata.name);
      if (existing && existing.metadata.annotations?.[SYNC_OPERATION_ANNOTATION] === input.operation) return;
      if (existing) {
        if (!input.beforeHookCreation) return; // Argo CD leaves an existing hook without that policy in place
        await kube.delete(ref, m.metadata.namespace, m.metadata.name, 'Background');
        const gone = await poll(Date.now() + 60_000, async () => ((await kube.find(ref, m.metadata.namespace, m.metadata.name)) ? undefined : true));
        if (!gone) throw new Error(`${describeResource(m)}: the previous hook is still being deleted`);
      }
      const body = { ...m, metadata: { ...m.metadata, annotations: { ...(m.metadata.annotations ?? {}), [SYNC_OPERATION_ANNOTATION]: input.operation } } };
      try {
        await kube.create(ref, m.metadata.namespace, body, { fieldManager: FIELD_MANAGER });
      } catch (err) {
        if (isConflict(err)) return;
        if (failsResource(err)) throw ApplicationFailure.nonRetryable(`${describeResource(m)}: ${(err as Error).message}`, 'HookRefused');
        throw err;
      }
    },

    /** Waits for a hook to finish: a Job or Pod until it succeeds or fails, other kinds until healthy; bounded by `timeoutMs`. */
    async awaitHook(input: { manifest: ManifestResource; timeoutMs: number }): Promise<{ phase: 'Succeeded' | 'Failed'; message: string }> {
      const m = input.manifest;
      const outcome = await poll(Date.now() + input.timeoutMs, async () => {
        const live = await readLive(m);
        if (!live) return { phase: 'Failed' as const, message: `${describeResource(m)} disappeared before it finished` };
        const h = assessHealth(live);
        if (!h || h.status === 'Healthy') return { phase: 'Succeeded' as const, message: h?.message ?? `${m.kind.toLowerCase()}/${m.metadata.name} completed` };
        if (h.status === 'Degraded') return { phase: 'Failed' as const, message: `${describeResource(m)} failed: ${h.message ?? 'Degraded'}` };
        return undefined;
      });
      return outcome ?? { phase: 'Failed', message: `${describeResource(m)} did not finish within ${Math.round(input.timeoutMs / 1000)}s (hook timeout)` };
    },

    /** Deletes resources (hooks by policy, or prunes); gone already is fine. */
    async deleteResources(input: { manifests: ManifestResource[]; propagationPolicy?: PropagationPolicy; dryRun?: boolean }): Promise<ResourceResult[]> {
      const results: ResourceResult[] = [];
      for (const m of input.manifests) {
        try {
          const ref = await discovery.resourceFor(m.apiVersion, m.kind);
          if (!input.dryRun) await kube.delete(ref, m.metadata.namespace, m.metadata.name, input.propagationPolicy ?? 'Foreground');
          heartbeat();
          results.push(resourceResult(m, 'Pruned', input.dryRun ? 'pruned (dry run)' : 'pruned', 'Sync'));
        } catch (err) {
          if (isNotFound(err)) results.push(resourceResult(m, 'Pruned', 'pruned', 'Sync'));
          else if (failsResource(err)) results.push(resourceResult(m, 'SyncFailed', (err as Error).message, 'Sync'));
          else throw err;
        }
      }
      return results;
    },
  };
  return steps;
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
