// Kubernetes I/O for rollout workflows. Every activity is idempotent: ReplicaSet
// names derive from the pod template hash, scaling sets an absolute count, and the
// status write is a merge patch of the whole projection.
import { ApplicationFailure } from '@temporalio/activity';
import { isConflict, isNotFound, KubeApiError, Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';
import { podTemplateHash } from '../workflows/rollouts/pod-template-hash';
import {
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  type ReplicaSetState,
  type RolloutSnapshot,
  type RolloutSpec,
  type RolloutStatus,
} from '../workflows/rollouts/types';
import type { RolloutRef } from '../workflows/definitions';

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
  };
}

export function createRolloutActivities(kube: KubeClient) {
  async function readRollout(ref: RolloutRef): Promise<KubeObject | undefined> {
    return kube.find(Resources.rollout, ref.namespace, ref.name);
  }

  return {
    async observeRollout(ref: RolloutRef): Promise<RolloutSnapshot> {
      const ro = await readRollout(ref);
      if (!ro || ro.metadata.deletionTimestamp) {
        return { exists: false, namespace: ref.namespace, name: ref.name, uid: '', generation: 0, spec: {}, status: {}, podTemplateHash: '', replicaSets: [], services: [] };
      }
      const spec = (ro.spec ?? {}) as RolloutSpec;
      const { items } = await kube.list(Resources.replicaSet, ref.namespace, { labelSelector: POD_TEMPLATE_HASH_LABEL });
      const owned = items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid && o.controller));
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
        services: [],
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
          annotations: { [REVISION_ANNOTATION]: String(req.revision), 'rollout.argoproj.io/desired-replicas': String(spec.replicas ?? 1) },
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
        await kube.create(Resources.replicaSet, ref.namespace, body, { fieldManager: 'sluice' });
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
        await kube.patch(Resources.replicaSet, ref.namespace, req.name, { spec: { replicas: req.replicas } }, { fieldManager: 'sluice' });
      } catch (err) {
        if (isNotFound(err)) return; // gone already; the next observation sees that
        refusal(err, `scaling ReplicaSet ${ref.namespace}/${req.name}`);
      }
    },

    async writeRolloutStatus(ref: RolloutRef, status: RolloutStatus): Promise<void> {
      try {
        await kube.patch(Resources.rollout, ref.namespace, ref.name, { status }, { subresource: 'status', fieldManager: 'sluice' });
      } catch (err) {
        if (isNotFound(err)) return;
        refusal(err, `writing the status of rollout ${ref.namespace}/${ref.name}`);
      }
    },
  };
}

export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
