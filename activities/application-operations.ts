// What an Application's operations need besides the reconcile pass: a sync's manifests,
// the diff, cascading deletion, sync windows and Prune=confirm approvals.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isConflict, Resources, type KubeClient } from '../k8s/kube-client';
import { redactURL, SourceRefusedError } from '../domain/applications/source-safety';
import type { ApplicationRef, ApplicationSpec, SyncSource } from '../domain/applications/types';
import { resourceKey, syncOptionsOf, type ManifestResource } from '../domain/sync/resources';
import { DELETION_APPROVED_ANNOTATION, FIELD_MANAGER, RESOURCES_FINALIZER } from '../domain/argo/names';
import type { ApplicationEvent } from '../domain/applications/self-heal-loop';
import { whileHeartbeating } from './heartbeats';
import { projectOf, syncWindowsAllow } from './project-permissions';
import { isUserError, type CompareInput, type Comparer, type Target } from './application-compare';

/** Argo CD's cascading-deletion finalizer (also with a /foreground or /background suffix). */
/** Argo CD's approval of Prune=confirm deletions: an RFC 3339 time on the Application (`argocd app confirm-deletion`). */

/**
 * Argo's IsDeletionConfirmed: the approval counts for an operation that started at or
 * before it (both read at second precision, as Kubernetes times are).
 */
export function isDeletionConfirmed(approved: string | undefined, operationStartedAt: string): boolean {
  if (!approved) return false;
  const at = Date.parse(approved);
  const since = Date.parse(operationStartedAt);
  if (Number.isNaN(at) || Number.isNaN(since)) return false;
  return Math.floor(at / 1000) >= Math.floor(since / 1000);
}

const cancelled = () => {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false; // outside an activity
  }
};

export function createApplicationOperations(
  kube: KubeClient,
  comparer: Comparer,
  patchApplication: (ref: ApplicationRef, body: unknown, subresource?: string) => Promise<void>,
) {
  const { compare, desiredState, liveTracked, targetFor, projectFor, groupKind } = comparer;
  return {
    /** A readable unified diff of every out-of-sync resource, live → Git. */
    async diffApplication(input: CompareInput): Promise<string> {
      const { comparison, diffs } = await whileHeartbeating(() => compare(input, true));
      if (comparison.error) return `ComparisonError: ${comparison.error}\n`;
      return diffs.join('');
    },

    /** The manifests a sync applies at `revision` and the tracked live objects no longer in Git. */
    async prepareSync(input: CompareInput & { revision: string }): Promise<SyncSource> {
      return whileHeartbeating(async () => {
        let state: Awaited<ReturnType<typeof desiredState>>;
        try {
          state = await desiredState(input);
        } catch (err) {
          if (isUserError(err)) throw ApplicationFailure.nonRetryable(redactURL((err as Error).message), 'ComparisonError');
          throw err;
        }
        const unknown = state.desired.find((d) => !d.ref && !state.desired.some((o) => o.manifest.kind === 'CustomResourceDefinition'));
        if (unknown) throw ApplicationFailure.nonRetryable(`${unknown.manifest.kind}/${unknown.manifest.metadata.name}: ${unknown.kindError}`, 'UnknownKind');
        const kinds = new Set([...input.kinds, ...state.desired.filter((d) => d.ref).map((d) => groupKind(d.manifest))]);
        const namespaces = new Set<string>(
          [input.spec.destination?.namespace ?? '', ...state.desired.map((d) => d.manifest.metadata.namespace ?? '')].filter((n) => n !== ''),
        );
        const live = await liveTracked(state.target, input.instance, kinds, namespaces, state.desired, input.known, input.freshSinceMs);
        const gitKeys = new Set(state.desired.map((d) => resourceKey(d.manifest)));
        const liveOnly = [...live.entries()]
          .filter(([key]) => !gitKeys.has(key))
          .map(
            ([, l]) =>
              ({
                apiVersion: l.obj.apiVersion,
                kind: l.obj.kind,
                metadata: {
                  name: l.obj.metadata.name,
                  namespace: l.obj.metadata.namespace,
                  annotations: l.obj.metadata.annotations,
                  labels: l.obj.metadata.labels,
                },
              }) as ManifestResource,
          );
        return { revision: state.revision, manifests: state.desired.map((d) => d.manifest), liveOnly };
      });
    },

    /**
     * Cascading deletion: deletes every live object the app tracks (except those marked
     * argocd.argoproj.io/sync-options: Delete=false), then removes the resources finalizer
     * so the Application itself goes. Returns what is still there (deletion in progress).
     */
    async deleteApplicationResources(input: CompareInput): Promise<{ remaining: string[] }> {
      return whileHeartbeating(async () => {
        const namespaces = new Set<string>([input.spec.destination?.namespace ?? ''].filter((n) => n !== ''));
        for (const k of input.known ?? []) if (k.namespace) namespaces.add(k.namespace);
        let target: Target | undefined;
        try {
          target = await targetFor(input.spec);
        } catch (err) {
          // The destination cluster is no longer registered: nothing there can be reached, so
          // the Application goes without touching it (rather than hanging on its finalizer).
          if (!(err instanceof SourceRefusedError)) throw err;
        }
        const live = target ? await liveTracked(target, input.instance, input.kinds, namespaces, [], input.known) : new Map();
        const remaining: string[] = [];
        for (const [key, { ref, obj }] of live) {
          if (syncOptionsOf(obj).delete === 'false') continue;
          remaining.push(key);
          if (!obj.metadata.deletionTimestamp) await target!.kube.delete(ref, obj.metadata.namespace, obj.metadata.name, 'Foreground');
        }
        if (remaining.length === 0) {
          const app = await kube.find(Resources.application, input.app.namespace, input.app.name);
          const finalizers = (app?.metadata.finalizers as string[] | undefined) ?? [];
          const index = finalizers.findIndex((f) => f.startsWith(RESOURCES_FINALIZER));
          if (app && index >= 0) {
            await kube.patch(
              Resources.application,
              input.app.namespace,
              input.app.name,
              [
                { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizers[index] },
                { op: 'remove', path: `/metadata/finalizers/${index}` },
              ],
              { type: 'json' },
            );
          }
        }
        return { remaining };
      });
    },

    /**
     * Whether the project's syncWindows let a sync start now (manual: a person asked;
     * automated: auto-sync or self-heal). A missing project is the compare's error, not this one's.
     */
    async checkSyncWindows(input: { app: ApplicationRef; spec: ApplicationSpec; manual: boolean }): Promise<{ allowed: boolean; message?: string }> {
      let found: Awaited<ReturnType<typeof projectOf>>;
      try {
        // A read at most SHARED_READ_REUSE_MS old, as an informer's copy would be: a burst
        // of syncs asks once, not once per sync.
        found = await projectFor(input.app, input.spec);
      } catch (err) {
        if (err instanceof SourceRefusedError) return { allowed: true };
        throw err;
      }
      const verdict = syncWindowsAllow(found, input.app, input.spec, input.manual, new Date());
      // A held operation reads as Argo's controller words it, manual or not.
      return verdict.allowed
        ? verdict
        : { allowed: false, message: verdict.message?.replace(/^cannot sync: blocked by sync window/, 'Sync operation blocked by sync window') };
    },

    /**
     * Prune=confirm: shows "Waiting for pruning confirmation of …" as the operation's message
     * and waits (heartbeating, up to `waitMs`) until the Application carries a
     * deletion-approved time not before the operation started. False when still unconfirmed.
     */
    async awaitPruneConfirmation(input: { app: ApplicationRef; startedAt: string; message: string; waitMs: number }): Promise<boolean> {
      const deadline = Date.now() + input.waitMs;
      let shown = false;
      return whileHeartbeating(async () => {
        for (;;) {
          const app = await kube.find(Resources.application, input.app.namespace, input.app.name);
          if (!app) return false;
          if (isDeletionConfirmed(app.metadata.annotations?.[DELETION_APPROVED_ANNOTATION], input.startedAt)) return true;
          if (!shown) {
            await patchApplication(input.app, { status: { operationState: { phase: 'Running', message: input.message } } }, 'status');
            shown = true;
          }
          if (Date.now() >= deadline || cancelled()) return false;
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
    },

    /** A Warning Event on the Application; the workflow names it, so a retry after a lost response finds it there. */
    async recordApplicationEvent(ref: ApplicationRef, ev: ApplicationEvent): Promise<void> {
      const app = await kube.find(Resources.application, ref.namespace, ref.name);
      if (!app) return;
      try {
        await kube.create(
          Resources.event,
          ref.namespace,
          {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: ev.name, namespace: ref.namespace },
            involvedObject: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: ref.namespace, name: ref.name, uid: app.metadata.uid },
            type: 'Warning',
            reason: ev.reason,
            message: ev.message,
            firstTimestamp: ev.at,
            lastTimestamp: ev.at,
            count: 1,
            source: { component: FIELD_MANAGER },
          },
          { fieldManager: FIELD_MANAGER },
        );
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    },
  };
}
