// Kubernetes I/O for rollout workflows. Every activity is idempotent: ReplicaSet
// names derive from the pod template hash, scaling sets an absolute count, and the
// status write is a merge patch of the whole projection.
import { RouterError, type RoutedObject, type RouterContext, type RouterRead } from '../domain/rollouts/traffic/router';
import { configuredRouters } from '../domain/rollouts/traffic/routers';
import {
  DESIRED_REPLICAS_ANNOTATION,
  EPHEMERAL_METADATA_ANNOTATION,
  FIELD_MANAGER,
  MANAGED_BY_ANNOTATION,
  POD_TEMPLATE_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  SCALE_DOWN_DEADLINE_ANNOTATION,
} from '../domain/argo/names';
import { ApplicationFailure } from '@temporalio/activity';
import { isConflict, isNotFound, isRefused, Resources, type KubeClient, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import { canonicalJson, podTemplateHash } from '../domain/rollouts/pod-template-hash';
import type { PodMetadata, ServiceState, ReplicaSetState, RolloutSnapshot, RolloutSpec, RolloutStatus } from '../domain/rollouts/types';
import type { ObjectRef as RolloutRef } from '../domain/objects';
import type { ReconcileAction } from '../domain/rollouts/actions';
import { cacheCovers, type RolloutCache } from './rollout-cache';

/** Where the objects routers read and write live. */
const ROUTER_READS: Record<RouterRead['kind'], ResourceRef> = { Ingress: Resources.ingress };
function resourceOf(obj: RoutedObject): ResourceRef {
  const res = ROUTER_READS[obj.kind as RouterRead['kind']];
  if (!res) throw ApplicationFailure.nonRetryable(`a traffic router asked for a ${obj.kind}, which Sluice does not write`, 'InvalidConfig');
  return res;
}

export interface RolloutEvent {
  /** Unique per occurrence and derived from workflow state, so retries are idempotent. */
  name: string;
  uid: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** ISO time of the occurrence. */
  at: string;
}

/** A refused request (see isRefused) fails without retries; anything else is retried. */
function refusal(err: unknown, what: string): never {
  if (isRefused(err)) {
    throw ApplicationFailure.nonRetryable(`${what}: ${err.message}`, err.reason);
  }
  throw err;
}

function replicaSetState(rs: KubeObject): ReplicaSetState {
  const st = rs.status ?? {};
  return {
    name: rs.metadata.name,
    podTemplateHash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
    revision: Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0),
    specReplicas: rs.spec?.replicas ?? 0,
    replicas: st.replicas ?? 0,
    readyReplicas: st.readyReplicas ?? 0,
    availableReplicas: st.availableReplicas ?? 0,
    observed: (st.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0),
    creationTimestamp: rs.metadata.creationTimestamp ?? '',
    scaleDownDeadline: rs.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION] || undefined,
    ephemeralMetadata: rs.metadata.annotations?.[EPHEMERAL_METADATA_ANNOTATION] || undefined,
  };
}

/** A label selector for the rollout's ReplicaSets: its matchLabels plus the hash label. */
function ownSelector(spec: RolloutSpec): string {
  const labels = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  return [...labels, POD_TEMPLATE_HASH_LABEL].join(',');
}

/** The Services a strategy names, so the strategy can see where each one points. */
function serviceNames(spec: RolloutSpec): string[] {
  const bg = spec.strategy?.blueGreen;
  const c = spec.strategy?.canary;
  return [bg?.activeService, bg?.previewService, c?.canaryService, c?.stableService].filter((n): n is string => typeof n === 'string' && n.length > 0);
}

/** A value with nulls, empty objects and empty arrays left out, and (in pod template labels) the hash label. */
function semanticTemplate(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => semanticTemplate(v)).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([k]) => !(key === 'labels' && k === POD_TEMPLATE_HASH_LABEL))
    .map(([k, v]) => [k, semanticTemplate(v, k)] as const)
    .filter(([, v]) => v !== undefined);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/**
 * Argo's `kubectl argo rollouts undo` copies a ReplicaSet's pod template into spec.template as the
 * API server returns it: server defaults and Go's empty values included (the hash label removed).
 * Argo's controller compares templates semantically and reuses that ReplicaSet; so does this: a
 * template no ReplicaSet has the plain hash of, but equal to an owned ReplicaSet's template (hash
 * label and empty values aside), is that ReplicaSet's. A template as users write it (no defaults)
 * never equals a ReplicaSet's, so it hashes as written.
 */
export function sameTemplateIgnoringHash(a: unknown, b: unknown): boolean {
  return canonicalJson(semanticTemplate(a)) === canonicalJson(semanticTemplate(b));
}

/**
 * `cache`, when given, answers observations without a round trip (the watcher keeps it),
 * and every write below puts its response into it, so a pass reads its own writes.
 */
export function createRolloutActivities(kube: KubeClient, cache?: RolloutCache) {
  async function patchReplicaSet(ref: RolloutRef, name: string, body: unknown, what: string): Promise<void> {
    try {
      cache?.replicaSets.upsert(await kube.patch(Resources.replicaSet, ref.namespace, name, body, { fieldManager: FIELD_MANAGER }));
    } catch (err) {
      if (isNotFound(err)) return;
      refusal(err, `${what} ReplicaSet ${ref.namespace}/${name}`);
    }
  }

  async function readRollout(ref: RolloutRef): Promise<KubeObject | undefined> {
    return kube.find(Resources.rollout, ref.namespace, ref.name);
  }

  // Rollout uid and generation → the ReplicaSet whose template spec.template turned out to be
  // (undefined: none). Worked out once per generation, and only when no ReplicaSet has the plain hash.
  const copiedTemplates = new Map<string, string | undefined>();
  /** The hash spec.template stands for; see sameTemplateIgnoringHash. `owned`: the rollout's ReplicaSets. */
  async function templateHash(ro: KubeObject, template: RolloutSpec['template'], owned: KubeObject[]): Promise<string> {
    const plain = podTemplateHash(template);
    const hashOf = (rs: KubeObject) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
    if (owned.length === 0 || owned.some((rs) => hashOf(rs) === plain)) return plain;
    const key = `${ro.metadata.uid}/${ro.metadata.generation}`;
    if (!copiedTemplates.has(key)) {
      let found: string | undefined;
      for (const rs of owned) {
        // The observation's copy of a ReplicaSet has no template: read it.
        const live = rs.spec?.template ? rs : await kube.find(Resources.replicaSet, ro.metadata.namespace, rs.metadata.name);
        if (live && hashOf(live) && sameTemplateIgnoringHash(live.spec?.template, template)) found = hashOf(live);
        if (found) break;
      }
      if (copiedTemplates.size > 1000) copiedTemplates.clear();
      copiedTemplates.set(key, found);
    }
    return copiedTemplates.get(key) ?? plain;
  }

  const activities = {
    async observeRollout(ref: RolloutRef): Promise<RolloutSnapshot> {
      const copy = cacheCovers(cache, ref.namespace) ? cache : undefined;
      // A Rollout missing from the copy is looked up: a workflow must not end because
      // its watch has not yet seen the object that started it.
      const ro = copy?.rollouts.get(ref.namespace, ref.name) ?? (await readRollout(ref));
      if (!ro || ro.metadata.deletionTimestamp) {
        return {
          exists: false,
          namespace: ref.namespace,
          name: ref.name,
          uid: '',
          generation: 0,
          spec: {},
          status: {},
          podTemplateHash: '',
          replicaSets: [],
          services: [],
        };
      }
      const spec = (ro.spec ?? {}) as RolloutSpec;
      // Only this rollout's ReplicaSets: its selector's labels narrow the list, so one
      // observation costs the same however many rollouts share the namespace.
      const items = copy
        ? copy.replicaSets.ownedBy(ro.metadata.uid ?? '')
        : (await kube.list(Resources.replicaSet, ref.namespace, { labelSelector: ownSelector(spec) })).items;
      const owned = items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid && o.controller));
      const services: ServiceState[] = await Promise.all(
        [...new Set(serviceNames(spec))].map(async (name) => {
          const svc = copy ? copy.services.get(ref.namespace, name) : await kube.find(Resources.service, ref.namespace, name);
          return { name, exists: !!svc, selector: svc?.spec?.selector ?? {}, managedBy: svc?.metadata.annotations?.[MANAGED_BY_ANNOTATION] };
        }),
      );
      return {
        exists: true,
        namespace: ref.namespace,
        name: ref.name,
        uid: ro.metadata.uid ?? '',
        generation: ro.metadata.generation ?? 0,
        spec,
        status: (ro.status ?? {}) as RolloutStatus,
        podTemplateHash: spec.template ? await templateHash(ro, spec.template, owned) : '',
        replicaSets: owned.map(replicaSetState).sort((a, b) => a.revision - b.revision),
        services,
      };
    },

    async createReplicaSet(ref: RolloutRef, req: { hash: string; revision: number; replicas: number }): Promise<void> {
      const ro = await readRollout(ref);
      if (!ro) return; // deleted meanwhile: the next observation ends the workflow
      const spec = ro.spec as RolloutSpec;
      // The template may have changed since the decision; then the next observation
      // decides again, and a ReplicaSet for a template nobody wants is never made.
      if (!spec.template || podTemplateHash(spec.template) !== req.hash) return;
      const name = `${ref.name}-${req.hash}`;
      const template = spec.template;
      const podLabels = { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: req.hash };
      const body = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          namespace: ref.namespace,
          labels: podLabels,
          annotations: {
            [REVISION_ANNOTATION]: String(req.revision),
            [DESIRED_REPLICAS_ANNOTATION]: String(spec.replicas ?? 1),
            // The template as the Rollout had it, before the API server filled in
            // defaults: undo restores exactly this, so it maps to the same hash and
            // ReplicaSet again.
            [POD_TEMPLATE_ANNOTATION]: JSON.stringify(template),
          },
          ownerReferences: [
            { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: ref.name, uid: ro.metadata.uid!, controller: true, blockOwnerDeletion: true },
          ],
        },
        spec: {
          replicas: req.replicas,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector: { ...spec.selector, matchLabels: { ...(spec.selector?.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: req.hash } },
          template: { ...template, metadata: { ...(template.metadata ?? {}), labels: podLabels } },
        },
      };
      try {
        cache?.replicaSets.upsert(await kube.create(Resources.replicaSet, ref.namespace, body, { fieldManager: FIELD_MANAGER }));
      } catch (err) {
        if (!isConflict(err)) refusal(err, `creating ReplicaSet ${ref.namespace}/${name}`);
        // Already there: a retry after a lost response, or a replay. Make sure it is ours.
        const existing = await kube.get(Resources.replicaSet, ref.namespace, name);
        if (!existing.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid)) {
          throw ApplicationFailure.nonRetryable(
            `ReplicaSet ${ref.namespace}/${name} exists and is not owned by rollout ${ref.namespace}/${ref.name}`,
            'NotOwned',
          );
        }
      }
    },

    async scaleReplicaSet(ref: RolloutRef, req: { name: string; replicas: number }): Promise<void> {
      try {
        cache?.replicaSets.upsert(
          await kube.patch(Resources.replicaSet, ref.namespace, req.name, { spec: { replicas: req.replicas } }, { fieldManager: FIELD_MANAGER }),
        );
      } catch (err) {
        if (isNotFound(err)) return; // gone already; the next observation sees that
        refusal(err, `scaling ReplicaSet ${ref.namespace}/${req.name}`);
      }
    },

    async setScaleDownDeadline(ref: RolloutRef, req: { name: string; deadline: string | null }): Promise<void> {
      await patchReplicaSet(
        ref,
        req.name,
        { metadata: { annotations: { [SCALE_DOWN_DEADLINE_ANNOTATION]: req.deadline } } },
        'setting the scale-down deadline of',
      );
    },

    async setReplicaSetRevision(ref: RolloutRef, req: { name: string; revision: number }): Promise<void> {
      await patchReplicaSet(ref, req.name, { metadata: { annotations: { [REVISION_ANNOTATION]: String(req.revision) } } }, 'setting the revision of');
    },

    async deleteReplicaSet(ref: RolloutRef, req: { name: string }): Promise<void> {
      await kube.delete(Resources.replicaSet, ref.namespace, req.name);
      cache?.replicaSets.forget(ref.namespace, req.name);
    },

    /** Points a Service at one pod template hash, marking it as managed by this rollout. */
    async switchServiceSelector(ref: RolloutRef, req: { service: string; hash: string | null }): Promise<void> {
      try {
        const svc = await kube.patch(
          Resources.service,
          ref.namespace,
          req.service,
          { metadata: { annotations: { [MANAGED_BY_ANNOTATION]: ref.name } }, spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: req.hash } } },
          { fieldManager: FIELD_MANAGER },
        );
        cache?.services.upsert(svc);
      } catch (err) {
        refusal(err, `switching Service ${ref.namespace}/${req.service}`);
      }
    },

    /** Deletes up to `max` pods of the ReplicaSet created before `before`, while all its pods are ready. */
    async restartPods(ref: RolloutRef, req: { replicaSet: string; before: string; max: number }): Promise<{ remaining: number }> {
      const rs = await kube.find(Resources.replicaSet, ref.namespace, req.replicaSet);
      if (!rs) return { remaining: 0 };
      const hash = rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
      const { items } = await kube.list(Resources.pod, ref.namespace, { labelSelector: `${POD_TEMPLATE_HASH_LABEL}=${hash}` });
      const cutoff = Date.parse(req.before);
      const stale = items.filter((pod) => !pod.metadata.deletionTimestamp && Date.parse(pod.metadata.creationTimestamp ?? '') < cutoff);
      const ready = (rs.status?.availableReplicas ?? 0) >= (rs.spec?.replicas ?? 0);
      const deleting = items.filter((pod) => pod.metadata.deletionTimestamp).length;
      if (ready && deleting === 0) {
        for (const pod of stale.slice(0, req.max)) await kube.delete(Resources.pod, ref.namespace, pod.metadata.name);
      }
      return { remaining: stale.length };
    },

    /** Role labels and annotations on the ReplicaSet's template (new pods) and on its running pods. */
    async setPodMetadata(ref: RolloutRef, req: { name: string; hash: string; metadata: PodMetadata | null; previous: PodMetadata | null }): Promise<void> {
      // Keys of the old role are removed (null in a merge patch), the new role's set.
      const merge = (key: 'labels' | 'annotations') => ({
        ...Object.fromEntries(Object.keys(req.previous?.[key] ?? {}).map((k) => [k, null])),
        ...(req.metadata?.[key] ?? {}),
      });
      const podMeta = { labels: merge('labels'), annotations: merge('annotations') };
      await patchReplicaSet(
        ref,
        req.name,
        {
          metadata: { annotations: { [EPHEMERAL_METADATA_ANNOTATION]: req.metadata ? JSON.stringify(req.metadata) : null } },
          spec: { template: { metadata: podMeta } },
        },
        'setting the pod metadata of',
      );
      const { items } = await kube.list(Resources.pod, ref.namespace, { labelSelector: `${POD_TEMPLATE_HASH_LABEL}=${req.hash}` });
      for (const pod of items) {
        try {
          await kube.patch(Resources.pod, ref.namespace, pod.metadata.name, { metadata: podMeta }, { fieldManager: FIELD_MANAGER });
        } catch (err) {
          if (!isNotFound(err)) refusal(err, `labelling pod ${ref.namespace}/${pod.metadata.name}`);
        }
      }
    },

    /** The canary weight on every configured traffic router (domain/rollouts/traffic/routers.ts). */
    async setTrafficWeight(ref: RolloutRef, req: { weight: number }): Promise<void> {
      const ro = await readRollout(ref);
      if (!ro) return;
      const canary = (ro.spec as RolloutSpec).strategy?.canary;
      const rollout = { namespace: ref.namespace, name: ref.name, uid: ro.metadata.uid! };
      for (const { router, config } of configuredRouters(canary)) {
        const ctx: RouterContext<unknown> = { rollout, canary: canary!, config };
        // By kind and name: the router may describe a read again with a new object.
        const read = new Map<string, RoutedObject | undefined>();
        for (const r of router.reads(config)) read.set(`${r.kind}/${r.name}`, await kube.find<RoutedObject>(ROUTER_READS[r.kind], ref.namespace, r.name));
        let desired: RoutedObject[];
        try {
          desired = router.desiredObjects(ctx, req.weight, (r) => read.get(`${r.kind}/${r.name}`));
        } catch (err) {
          if (err instanceof RouterError) throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name}: ${err.message}`, err.reason);
          throw err;
        }
        const applied: RoutedObject[] = [];
        for (const body of desired) {
          try {
            const opts = { type: 'apply', fieldManager: FIELD_MANAGER, force: true } as const;
            applied.push(await kube.patch<RoutedObject>(resourceOf(body), ref.namespace, body.metadata.name, body, opts));
          } catch (err) {
            refusal(err, `updating ${body.kind} ${ref.namespace}/${body.metadata.name} for the ${router.name} traffic router`);
          }
        }
        // Retried: what the API server answered does not carry the weight yet.
        if (!router.verifyWeight(ctx, req.weight, applied)) {
          throw new Error(`rollout ${ref.namespace}/${ref.name}: the ${router.name} traffic router does not carry weight ${req.weight} yet`);
        }
      }
    },

    async patchRolloutSpec(ref: RolloutRef, spec: Record<string, unknown>): Promise<void> {
      try {
        await kube.patch(Resources.rollout, ref.namespace, ref.name, { spec }, { fieldManager: FIELD_MANAGER });
      } catch (err) {
        refusal(err, `updating rollout ${ref.namespace}/${ref.name}`);
      }
    },

    async setRolloutImage(ref: RolloutRef, container: string, image: string): Promise<void> {
      const ro = await readRollout(ref);
      const containers = (ro?.spec?.template?.spec?.containers ?? []) as { name: string }[];
      const index = containers.findIndex((c) => c.name === container);
      if (index < 0) throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name} has no container "${container}"`, 'NoSuchContainer');
      try {
        await kube.patch(Resources.rollout, ref.namespace, ref.name, [{ op: 'replace', path: `/spec/template/spec/containers/${index}/image`, value: image }], {
          type: 'json',
          fieldManager: FIELD_MANAGER,
        });
      } catch (err) {
        refusal(err, `setting the image of rollout ${ref.namespace}/${ref.name}`);
      }
    },

    /** kubectl argo rollouts undo: the template of an earlier revision becomes spec.template again. */
    async undoRollout(ref: RolloutRef, toRevision?: number): Promise<void> {
      const ro = await readRollout(ref);
      if (!ro) throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name} not found`, 'NotFound');
      const { items } = await kube.list(Resources.replicaSet, ref.namespace, { labelSelector: POD_TEMPLATE_HASH_LABEL });
      const ownedItems = items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid));
      const current = await templateHash(ro, (ro.spec as RolloutSpec).template, ownedItems);
      const owned = ownedItems
        .map((rs) => ({ rs, revision: Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0), hash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] }))
        .sort((a, b) => b.revision - a.revision);
      const target = toRevision !== undefined ? owned.find((o) => o.revision === toRevision) : owned.find((o) => o.hash !== current);
      if (!target)
        throw ApplicationFailure.nonRetryable(
          `rollout ${ref.namespace}/${ref.name} has no ${toRevision !== undefined ? `revision ${toRevision}` : 'previous revision'}`,
          'NoSuchRevision',
        );
      const recorded = target.rs.metadata.annotations?.[POD_TEMPLATE_ANNOTATION];
      const template = recorded ? JSON.parse(recorded) : structuredClone(target.rs.spec.template);
      delete template.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      await kube.patch(Resources.rollout, ref.namespace, ref.name, [{ op: 'replace', path: '/spec/template', value: template }], {
        type: 'json',
        fieldManager: FIELD_MANAGER,
      });
    },

    /**
     * A Kubernetes Event on the Rollout. The workflow names it (from its own clock), so a
     * retry after a lost response finds it already there instead of adding another.
     */
    async recordEvent(ref: RolloutRef, ev: RolloutEvent): Promise<void> {
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: ev.name, namespace: ref.namespace },
        involvedObject: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace: ref.namespace, name: ref.name, uid: ev.uid },
        type: ev.type,
        reason: ev.reason,
        message: ev.message,
        firstTimestamp: ev.at,
        lastTimestamp: ev.at,
        count: 1,
        source: { component: FIELD_MANAGER },
      };
      try {
        await kube.create(Resources.event, ref.namespace, body, { fieldManager: FIELD_MANAGER });
      } catch (err) {
        if (isConflict(err)) return;
        refusal(err, `recording an event on rollout ${ref.namespace}/${ref.name}`);
      }
    },

    async writeRolloutStatus(ref: RolloutRef, status: RolloutStatus): Promise<void> {
      try {
        cache?.rollouts.upsert(
          await kube.patch(Resources.rollout, ref.namespace, ref.name, { status }, { subresource: 'status', fieldManager: FIELD_MANAGER }),
        );
      } catch (err) {
        if (isNotFound(err)) return;
        refusal(err, `writing the status of rollout ${ref.namespace}/${ref.name}`);
      }
    },
  };
  return {
    ...activities,
    /**
     * A pass's patches in one call, in order: one local activity instead of one each.
     * Each is idempotent, so a retry of the whole batch after a partial run is harmless;
     * the first refusal stops the batch, as it stopped the calls one by one.
     */
    async applyActions(ref: RolloutRef, actions: ReconcileAction[]): Promise<void> {
      for (const action of actions) await applyReconcileAction(activities, ref, action);
    },
    /**
     * A status decided in an earlier workflow task, then the next pass's observation: one
     * local activity instead of two. A refused write is reported, not thrown, so the pass
     * still observes; anything else fails the call and a retry repeats both (each idempotent).
     */
    async writeStatusThenObserve(ref: RolloutRef, status: RolloutStatus): Promise<{ snapshot: RolloutSnapshot; refused?: string }> {
      return writeThenObserve(activities, ref, status);
    },
  };
}

/** The status write, then the observation (shared with the tests' fakes). */
export async function writeThenObserve(
  a: Pick<RolloutActivities, 'writeRolloutStatus' | 'observeRollout'>,
  ref: RolloutRef,
  status: RolloutStatus,
): Promise<{ snapshot: RolloutSnapshot; refused?: string }> {
  let refused: string | undefined;
  try {
    await a.writeRolloutStatus(ref, status);
  } catch (err) {
    if (!(err instanceof ApplicationFailure && err.nonRetryable)) throw err;
    refused = err.message;
  }
  return { snapshot: await a.observeRollout(ref), ...(refused ? { refused } : {}) };
}

type PatchActivities = Pick<
  RolloutActivities,
  'scaleReplicaSet' | 'setScaleDownDeadline' | 'setReplicaSetRevision' | 'switchServiceSelector' | 'setPodMetadata' | 'setTrafficWeight'
>;

/** One reconcile action through the activity that does it (shared with the tests' fakes). */
export async function applyReconcileAction(a: PatchActivities, ref: RolloutRef, action: ReconcileAction): Promise<void> {
  switch (action.kind) {
    case 'scaleReplicaSet':
      return a.scaleReplicaSet(ref, action);
    case 'setScaleDownDeadline':
      return a.setScaleDownDeadline(ref, action);
    case 'setRevision':
      return a.setReplicaSetRevision(ref, action);
    case 'setServiceSelector':
      return a.switchServiceSelector(ref, action);
    case 'setPodMetadata':
      return a.setPodMetadata(ref, action);
    case 'setTrafficWeight':
      return a.setTrafficWeight(ref, action);
  }
}

export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
