// Kubernetes I/O for rollout workflows. Every activity is idempotent: ReplicaSet
// names derive from the pod template hash, scaling sets an absolute count, and the
// status write is a merge patch of the whole projection.
import { ApplicationFailure } from '@temporalio/activity';
import { isConflict, isNotFound, KubeApiError, Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';
import { podTemplateHash } from '../workflows/rollouts/pod-template-hash';
import { nginxCanaryIngress, stableIngressNames, type IngressLike, type NginxRouting } from '../workflows/rollouts/traffic/nginx';
import {
  EPHEMERAL_METADATA_ANNOTATION,
  MANAGED_BY_ANNOTATION,
  type PodMetadata,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  SCALE_DOWN_DEADLINE_ANNOTATION,
  type ServiceState,
  type ReplicaSetState,
  type RolloutSnapshot,
  type RolloutSpec,
  type RolloutStatus,
} from '../workflows/rollouts/types';
import type { RolloutRef } from '../workflows/definitions';
import type { ReconcileAction } from '../workflows/rollouts/actions';
import { cacheCovers, TEMPLATE_ANNOTATION, type RolloutCache } from './rollout-cache';

/** Client errors that no retry will fix: the object itself is refused. */
function refusal(err: unknown, what: string): never {
  if (err instanceof KubeApiError && [400, 403, 422].includes(err.statusCode)) {
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

/**
 * `cache`, when given, answers observations without a round trip (the watcher keeps it),
 * and every write below puts its response into it, so a pass reads its own writes.
 */
export function createRolloutActivities(kube: KubeClient, cache?: RolloutCache) {
  async function patchReplicaSet(ref: RolloutRef, name: string, body: unknown, what: string): Promise<void> {
    try {
      cache?.replicaSets.upsert(await kube.patch(Resources.replicaSet, ref.namespace, name, body, { fieldManager: 'sluice' }));
    } catch (err) {
      if (isNotFound(err)) return;
      refusal(err, `${what} ReplicaSet ${ref.namespace}/${name}`);
    }
  }

  async function readRollout(ref: RolloutRef): Promise<KubeObject | undefined> {
    return kube.find(Resources.rollout, ref.namespace, ref.name);
  }

  const activities = {
    async observeRollout(ref: RolloutRef): Promise<RolloutSnapshot> {
      const copy = cacheCovers(cache, ref.namespace) ? cache : undefined;
      // A Rollout missing from the copy is looked up: a workflow must not end because
      // its watch has not yet seen the object that started it.
      const ro = copy?.rollouts.get(ref.namespace, ref.name) ?? (await readRollout(ref));
      if (!ro || ro.metadata.deletionTimestamp) {
        return { exists: false, namespace: ref.namespace, name: ref.name, uid: '', generation: 0, spec: {}, status: {}, podTemplateHash: '', replicaSets: [], services: [] };
      }
      const spec = (ro.spec ?? {}) as RolloutSpec;
      // Only this rollout's ReplicaSets: its selector's labels narrow the list, so one
      // observation costs the same however many rollouts share the namespace.
      const items = copy ? copy.replicaSets.ownedBy(ro.metadata.uid ?? '') : (await kube.list(Resources.replicaSet, ref.namespace, { labelSelector: ownSelector(spec) })).items;
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
        podTemplateHash: spec.template ? podTemplateHash(spec.template) : '',
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
            'rollout.argoproj.io/desired-replicas': String(spec.replicas ?? 1),
            // The template as the Rollout had it, before the API server filled in
            // defaults: undo restores exactly this, so it maps to the same hash and
            // ReplicaSet again.
            [TEMPLATE_ANNOTATION]: JSON.stringify(template),
          },
          ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: ref.name, uid: ro.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          replicas: req.replicas,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector: { ...spec.selector, matchLabels: { ...(spec.selector?.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: req.hash } },
          template: { ...template, metadata: { ...(template.metadata ?? {}), labels: podLabels } },
        },
      };
      try {
        cache?.replicaSets.upsert(await kube.create(Resources.replicaSet, ref.namespace, body, { fieldManager: 'sluice' }));
      } catch (err) {
        if (!isConflict(err)) refusal(err, `creating ReplicaSet ${ref.namespace}/${name}`);
        // Already there: a retry after a lost response, or a replay. Make sure it is ours.
        const existing = await kube.get(Resources.replicaSet, ref.namespace, name);
        if (!existing.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid)) {
          throw ApplicationFailure.nonRetryable(`ReplicaSet ${ref.namespace}/${name} exists and is not owned by rollout ${ref.namespace}/${ref.name}`, 'NotOwned');
        }
      }
    },

    async scaleReplicaSet(ref: RolloutRef, req: { name: string; replicas: number }): Promise<void> {
      try {
        cache?.replicaSets.upsert(await kube.patch(Resources.replicaSet, ref.namespace, req.name, { spec: { replicas: req.replicas } }, { fieldManager: 'sluice' }));
      } catch (err) {
        if (isNotFound(err)) return; // gone already; the next observation sees that
        refusal(err, `scaling ReplicaSet ${ref.namespace}/${req.name}`);
      }
    },

    async setScaleDownDeadline(ref: RolloutRef, req: { name: string; deadline: string | null }): Promise<void> {
      await patchReplicaSet(ref, req.name, { metadata: { annotations: { [SCALE_DOWN_DEADLINE_ANNOTATION]: req.deadline } } }, 'setting the scale-down deadline of');
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
          { fieldManager: 'sluice' },
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
        { metadata: { annotations: { [EPHEMERAL_METADATA_ANNOTATION]: req.metadata ? JSON.stringify(req.metadata) : null } }, spec: { template: { metadata: podMeta } } },
        'setting the pod metadata of',
      );
      const { items } = await kube.list(Resources.pod, ref.namespace, { labelSelector: `${POD_TEMPLATE_HASH_LABEL}=${req.hash}` });
      for (const pod of items) {
        try {
          await kube.patch(Resources.pod, ref.namespace, pod.metadata.name, { metadata: podMeta }, { fieldManager: 'sluice' });
        } catch (err) {
          if (!isNotFound(err)) refusal(err, `labelling pod ${ref.namespace}/${pod.metadata.name}`);
        }
      }
    },

    /** The traffic router's canary weight: for NGINX, the canary Ingress beside each stable one. */
    async setTrafficWeight(ref: RolloutRef, req: { weight: number }): Promise<void> {
      const ro = await readRollout(ref);
      if (!ro) return;
      const canary = (ro.spec as RolloutSpec).strategy?.canary;
      const nginx = canary?.trafficRouting?.nginx as NginxRouting | undefined;
      if (!canary || !nginx) return;
      for (const name of stableIngressNames(nginx)) {
        const stable = await kube.find<IngressLike>(Resources.ingress, ref.namespace, name);
        if (!stable) throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name}: stable Ingress "${name}" not found (spec.strategy.canary.trafficRouting.nginx.stableIngress)`, 'NotFound');
        let body;
        try {
          body = nginxCanaryIngress({ rollout: { name: ref.name, uid: ro.metadata.uid! }, stable, stableService: canary.stableService!, canaryService: canary.canaryService!, nginx, weight: req.weight });
        } catch (err) {
          throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name}: ${(err as Error).message}`, 'InvalidIngress');
        }
        try {
          await kube.patch(Resources.ingress, ref.namespace, body.metadata.name, body, { type: 'apply', fieldManager: 'sluice', force: true });
        } catch (err) {
          refusal(err, `updating canary Ingress ${ref.namespace}/${body.metadata.name}`);
        }
      }
    },

    async patchRolloutSpec(ref: RolloutRef, spec: Record<string, unknown>): Promise<void> {
      try {
        await kube.patch(Resources.rollout, ref.namespace, ref.name, { spec }, { fieldManager: 'sluice' });
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
        await kube.patch(Resources.rollout, ref.namespace, ref.name, [{ op: 'replace', path: `/spec/template/spec/containers/${index}/image`, value: image }], { type: 'json', fieldManager: 'sluice' });
      } catch (err) {
        refusal(err, `setting the image of rollout ${ref.namespace}/${ref.name}`);
      }
    },

    /** kubectl argo rollouts undo: the template of an earlier revision becomes spec.template again. */
    async undoRollout(ref: RolloutRef, toRevision?: number): Promise<void> {
      const ro = await readRollout(ref);
      if (!ro) throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name} not found`, 'NotFound');
      const current = podTemplateHash((ro.spec as RolloutSpec).template);
      const { items } = await kube.list(Resources.replicaSet, ref.namespace, { labelSelector: POD_TEMPLATE_HASH_LABEL });
      const owned = items
        .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid))
        .map((rs) => ({ rs, revision: Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0), hash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] }))
        .sort((a, b) => b.revision - a.revision);
      const target = toRevision !== undefined ? owned.find((o) => o.revision === toRevision) : owned.find((o) => o.hash !== current);
      if (!target) throw ApplicationFailure.nonRetryable(`rollout ${ref.namespace}/${ref.name} has no ${toRevision !== undefined ? `revision ${toRevision}` : 'previous revision'}`, 'NoSuchRevision');
      const recorded = target.rs.metadata.annotations?.[TEMPLATE_ANNOTATION];
      const template = recorded ? JSON.parse(recorded) : structuredClone(target.rs.spec.template);
      delete template.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      await kube.patch(Resources.rollout, ref.namespace, ref.name, [{ op: 'replace', path: '/spec/template', value: template }], { type: 'json', fieldManager: 'sluice' });
    },

    async writeRolloutStatus(ref: RolloutRef, status: RolloutStatus): Promise<void> {
      try {
        cache?.rollouts.upsert(await kube.patch(Resources.rollout, ref.namespace, ref.name, { status }, { subresource: 'status', fieldManager: 'sluice' }));
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
  };
}

type PatchActivities = Pick<RolloutActivities, 'scaleReplicaSet' | 'setScaleDownDeadline' | 'setReplicaSetRevision' | 'switchServiceSelector' | 'setPodMetadata' | 'setTrafficWeight'>;

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
