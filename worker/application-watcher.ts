// Turns Application changes, and changes to the resources Applications manage, into
// signals for application/<ns>/<name> workflows. An Application is started with
// signalWithStart; its own status writes (no new generation) do not wake it, but a spec
// change, a refresh annotation or an Argo-style `operation` do. A managed resource (found
// by its argocd.argoproj.io/tracking-id annotation) whose spec changed or that was
// deleted nudges its Application, which is how selfHeal sees drift.
import { setMaxListeners } from 'node:events';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Resources, type KubeClient, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import { isTrackedCopy, keepTracked, kindKey, MANAGED_KINDS, type ApplicationCache } from '../activities/application-cache';
import {
  applicationNudgeSignal,
  applicationWorkflowId,
  notificationsNudgeSignal,
  notificationsWorkflowId,
  imageUpdateNudgeSignal,
  imageUpdateWorkflowId,
  type ApplicationNudge,
} from '../workflows/definitions';
import { notificationsWorkflow } from '../workflows/notifications';
import { imageUpdateWorkflow } from '../workflows/image-update';
import { IMAGE_LIST_ANNOTATION, IMAGE_UPDATER_PREFIX } from '../domain/images/annotations';
import { imageUpdaterFor, type ImageUpdaterSpec } from '../domain/images/image-updater';
import { applicationWorkflow, type ApplicationTimings } from '../workflows/application';
import { appFromInstance, parseTrackingId } from '../domain/applications/tracking';
import { inform } from '../k8s/informer';
import { Nudger } from './nudger';
import type { Shards } from './replica-shards';
import { FIELD_MANAGER, REFRESH_ANNOTATION, TRACKING_ID_ANNOTATION } from '../domain/argo/names';
import { NOTIFICATIONS_CONFIGMAP } from '../activities/notifications/activities';
import { parseNotificationConfig, type DefaultSubscription, type NotificationConfig } from '../domain/notifications/config';
import { triggerView } from '../domain/notifications/firing';
import { isSubscribed, subscriptionsFor } from '../domain/notifications/subscriptions';

export interface ApplicationWatcherOptions {
  /** Who signals which workflow when several replicas run (worker/replica-shards.ts). */
  shards?: Shards;
  kube: KubeClient;
  client: Client;
  taskQueue: string;
  namespace?: string;
  useSearchAttributes: boolean;
  timings?: Partial<ApplicationTimings>;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Kept up to date from the same watches, for the application activities to read. */
  cache?: ApplicationCache;
  /**
   * Start and wake notifications/<ns>/<name> for subscribed Applications when what triggers
   * read changes (on unless SLUICE_NOTIFICATIONS=off).
   */
  notifications?: boolean;
  /** The notifications workflows' task queue (default: taskQueue). */
  notificationsTaskQueue?: string;
  /**
   * Syncs first: while at least `whileSyncing` Applications have a sync under way or have not
   * been compared yet (a burst), notifications workflows are started and woken only when the
   * burst is over or after `maxDelayMs`. `whileSyncing` 0 turns this off.
   */
  notificationsDeferral?: { whileSyncing: number; maxDelayMs: number };
  /** Start image-update/<ns>/<name> for Applications with Image Updater's image-list annotation. */
  imageUpdates?: { intervalMs?: number };
}

export class ApplicationWatcher {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly nudger: Nudger;
  /** Last generation seen per object, so status-only updates wake nobody. */
  private readonly seen = new Map<string, string>();
  /**
   * Per notifications workflow this process started or woke: what its last wake-up saw
   * (see notificationView). No entry: as far as this process knows there is no workflow.
   */
  private readonly notified = new Map<string, string>();
  /** What decides whether an Application is subscribed: the ConfigMap's `subscriptions` per namespace, projects' metadata, apps' metadata. */
  private readonly defaultSubscriptions = new Map<string, DefaultSubscription[]>();
  /** The triggers per namespace, to tell which changes of an Application a trigger could see. */
  private readonly notificationConfigs = new Map<string, NotificationConfig>();
  /** Until the first list of ConfigMaps, an Application's triggers are unknown: its notifications wait. */
  private configsListed = false;
  private readonly projects = new Map<string, KubeObject>();
  /** The Applications (the watch's own objects, no copy), to look again when the ConfigMap or a project changes. */
  private readonly apps = new Map<string, KubeObject>();
  /** Applications with a sync under way or not compared yet (see notificationsDeferral). */
  private readonly syncing = new Set<string>();
  /** Wake-ups of notifications workflows waiting for a burst of syncs to end, oldest first. */
  private readonly deferred = new Map<string, { since: number; send: () => void }>();
  private deferTimer?: NodeJS.Timeout;
  /** Last Image Updater annotations per Application: a change wakes its image-update workflow. */
  private readonly imageAnnotations = new Map<string, string>();
  /** Image-update workflows this process started or woke for an Application that asks for them. */
  private readonly imageWorkflows = new Set<string>();
  /** ImageUpdaters per namespace (name → spec), and the Applications they could select. */
  private readonly imageUpdaters = new Map<string, Map<string, ImageUpdaterSpec | undefined>>();
  private readonly imageApps = new Map<string, KubeObject>();

  constructor(private readonly opts: ApplicationWatcherOptions) {
    // Each open watch listens on the one signal, and this watcher keeps a dozen open
    // (Applications, managed kinds, ImageUpdaters, notification ConfigMaps, projects):
    // above Node's default of 10, which it would report as a leak.
    setMaxListeners(64, this.abort.signal);
    this.nudger = new Nudger((key, err) => {
      if (err instanceof WorkflowNotFoundError) return;
      opts.log('signal failed', { workflowId: key, error: String(err) });
    }, opts.shards);
  }

  start(): void {
    const { cache } = this.opts;
    // Each copy is updated before the nudge goes out, so the pass it causes sees the change.
    const apps = cache?.applications;
    this.loops.push(
      inform(
        this.informOptions(Resources.application),
        (type, app, listed) => (type === 'DELETED' ? apps?.remove(app) : apps?.upsert(app), this.onApplication(type, app, listed)),
        apps && ((items) => apps.replace(items)),
      ),
    );
    if (this.opts.imageUpdates) {
      // An ImageUpdater that starts or stops selecting Applications starts or wakes their image-update workflows.
      this.loops.push(
        inform(this.informOptions(Resources.imageUpdater), (type, iu) => {
          const ns = iu.metadata.namespace!;
          const byName = this.imageUpdaters.get(ns) ?? new Map<string, ImageUpdaterSpec | undefined>();
          this.imageUpdaters.set(ns, byName);
          if (type === 'DELETED') byName.delete(iu.metadata.name);
          else byName.set(iu.metadata.name, (iu as unknown as { spec?: ImageUpdaterSpec }).spec);
          for (const app of this.imageApps.values())
            if (app.metadata.namespace === ns) this.onImageUpdated('MODIFIED', app, { namespace: ns, name: app.metadata.name });
        }),
      );
    }
    if (this.opts.notifications) {
      // A ConfigMap or project that starts subscribing Applications starts their workflows.
      this.loops.push(
        inform(
          { ...this.informOptions(Resources.configMap), fieldSelector: `metadata.name=${NOTIFICATIONS_CONFIGMAP}` },
          (type, cm) => {
            const ns = cm.metadata.namespace!;
            if (type === 'DELETED') {
              this.defaultSubscriptions.delete(ns);
              this.notificationConfigs.delete(ns);
            } else this.setNotificationConfig(cm);
            // Other triggers or subscriptions: every Application of the namespace is looked at again.
            this.lookAgain((app) => app.metadata.namespace === ns);
          },
          (items) => {
            // The first list: Applications seen before it are looked at now.
            for (const cm of items) this.setNotificationConfig(cm);
            if (!this.configsListed) {
              this.configsListed = true;
              this.lookAgain(() => true);
            }
          },
        ),
        inform(this.informOptions(Resources.appProject), (type, project) => {
          const key = `${project.metadata.namespace}/${project.metadata.name}`;
          if (type === 'DELETED') this.projects.delete(key);
          else
            this.projects.set(key, {
              metadata: { name: project.metadata.name, namespace: project.metadata.namespace, annotations: project.metadata.annotations },
            } as KubeObject);
          this.lookAgain((app) => `${app.metadata.namespace}/${projectOf(app)}` === key);
        }),
      );
    }
    for (const res of MANAGED_KINDS) {
      const copy = cache?.managed.get(kindKey(res));
      this.loops.push(
        inform(
          this.informOptions(res),
          (type, obj) => (keepTracked(copy, type, obj), this.onManaged(res, type, obj)),
          copy && ((items) => copy.replace(items.filter(isTrackedCopy))),
        ),
      );
    }
  }

  private informOptions(resource: ResourceRef) {
    return { kube: this.opts.kube, resource, namespace: this.opts.namespace, signal: this.abort.signal, log: this.opts.log };
  }

  async stop(): Promise<void> {
    // Deferred wake-ups are dropped: the next process looks at every listed Application again.
    clearInterval(this.deferTimer);
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private changed(key: string, type: string, obj: KubeObject): boolean {
    if (type === 'DELETED') {
      this.seen.delete(key);
      return true;
    }
    // Objects without a generation (ConfigMaps, Services) change only by their content.
    const marker = obj.metadata.generation !== undefined ? `g${obj.metadata.generation}` : `rv${obj.metadata.resourceVersion}`;
    const before = this.seen.get(key);
    this.seen.set(key, marker);
    return before !== marker;
  }

  private onApplication(type: string, app: KubeObject, listed = false): void {
    const ref = { namespace: app.metadata.namespace!, name: app.metadata.name };
    if (this.opts.notifications) this.onNotifiable(type, app, ref, listed);
    if (this.opts.imageUpdates) this.onImageUpdated(type, app, ref);
    const workflowId = applicationWorkflowId(ref);
    const refresh = app.metadata.annotations?.[REFRESH_ANNOTATION];
    const hasOperation = (app as { operation?: unknown }).operation != null;
    const genChanged = this.changed(`app/${workflowId}`, type, app);
    if (!genChanged && !refresh && !hasOperation) return;
    const nudge: ApplicationNudge = {
      reason: `application ${type.toLowerCase()}`,
      ...(refresh === 'hard' || refresh === 'normal' ? { refresh, askedAt: Date.now() } : {}),
    };
    const { client, taskQueue, useSearchAttributes } = this.opts;
    if (type === 'DELETED') {
      this.nudger.nudge(workflowId, () => client.workflow.getHandle(workflowId).signal(applicationNudgeSignal, nudge));
      return;
    }
    this.nudger.nudge(workflowId, async () => {
      await client.workflow.signalWithStart(applicationWorkflow, {
        workflowId,
        taskQueue,
        args: [{ ...ref, timings: this.opts.timings }],
        signal: applicationNudgeSignal,
        signalArgs: [nudge],
        staticSummary: `Application ${ref.namespace}/${ref.name}`,
        ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['Application'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
      });
    });
  }

  /** The workflow starts when image-list appears and is woken when the annotations change; it ends by itself when they go. */
  private onImageUpdated(type: string, app: KubeObject, ref: { namespace: string; name: string }): void {
    const workflowId = imageUpdateWorkflowId(ref);
    if (type === 'DELETED') this.imageApps.delete(workflowId);
    else
      this.imageApps.set(workflowId, {
        metadata: { name: app.metadata.name, namespace: app.metadata.namespace, labels: app.metadata.labels, annotations: app.metadata.annotations },
      } as KubeObject);
    const updaters = [...(this.imageUpdaters.get(ref.namespace) ?? new Map<string, ImageUpdaterSpec | undefined>()).entries()].map(([name, spec]) => ({
      name,
      spec,
    }));
    const viaUpdater = imageUpdaterFor(updaters, app.metadata);
    const annotations = Object.entries(app.metadata.annotations ?? {}).filter(([k]) => k.startsWith(IMAGE_UPDATER_PREFIX));
    const fingerprint = type === 'DELETED' ? '' : JSON.stringify([annotations.sort(), viaUpdater ?? null]);
    if ((this.imageAnnotations.get(workflowId) ?? '') === fingerprint) return;
    this.imageAnnotations.set(workflowId, fingerprint);
    const { client, taskQueue, useSearchAttributes } = this.opts;
    const nudge = { reason: `application ${type.toLowerCase()}` };
    if (type === 'DELETED' || (!app.metadata.annotations?.[IMAGE_LIST_ANNOTATION] && !viaUpdater)) {
      // Only a workflow this process started or woke can be running; one left by an earlier
      // process ends by itself at its next check. Every other Application costs nothing.
      if (!this.imageWorkflows.delete(workflowId)) return;
      this.nudger.nudge(workflowId, () => client.workflow.getHandle(workflowId).signal(imageUpdateNudgeSignal, nudge));
      return;
    }
    this.imageWorkflows.add(workflowId);
    this.nudger.nudge(workflowId, async () => {
      await client.workflow.signalWithStart(imageUpdateWorkflow, {
        workflowId,
        taskQueue,
        args: [{ ...ref, ...(this.opts.imageUpdates?.intervalMs ? { intervalMs: this.opts.imageUpdates.intervalMs } : {}) }],
        signal: imageUpdateNudgeSignal,
        signalArgs: [nudge],
        staticSummary: `image updates of Application ${ref.namespace}/${ref.name}`,
        ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['ImageUpdate'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
      });
    });
  }

  private setNotificationConfig(cm: KubeObject): void {
    const data = (cm as { data?: Record<string, string> }).data ?? {};
    this.defaultSubscriptions.set(cm.metadata.namespace!, parseNotificationConfig(data, {}, false).subscriptions);
    this.notificationConfigs.set(cm.metadata.namespace!, parseNotificationConfig(data));
  }

  /**
   * A subscribed Application's notifications workflow is started when one of its subscribed
   * triggers' conditions first holds (before that it would decide nothing and remember
   * nothing), and once started it is woken when what those conditions say changes. So a
   * sync's five to ten status writes cost nothing until a trigger holds, and then one wake-up
   * per change of a condition.
   */
  private onNotifiable(type: string, app: KubeObject, ref: { namespace: string; name: string }, listed: boolean): void {
    const workflowId = notificationsWorkflowId(ref);
    const status = (app as { status?: { sync?: { status?: string }; operationState?: { phase?: string } } }).status;
    const syncing =
      type !== 'DELETED' && (!status?.sync?.status || status.operationState?.phase === 'Running' || (app as { operation?: unknown }).operation != null);
    if (syncing) this.syncing.add(workflowId);
    else this.syncing.delete(workflowId);
    if (type === 'DELETED') {
      this.apps.delete(workflowId);
      this.deferred.delete(workflowId);
      // Only a workflow that was started hears of the deletion (on-deleted).
      if (this.notified.delete(workflowId)) {
        this.nudger.nudge(workflowId, () => this.opts.client.workflow.getHandle(workflowId).signal(notificationsNudgeSignal));
      }
      return;
    }
    this.apps.set(workflowId, app);
    // A listed Application may have a workflow from before this process started.
    this.notify(workflowId, app, listed);
  }

  /** After a ConfigMap or project change, or the first list of ConfigMaps: looks at the Applications it may concern again. */
  private lookAgain(concerns: (app: KubeObject) => boolean): void {
    for (const [workflowId, app] of this.apps) if (concerns(app)) this.notify(workflowId, app, true);
  }

  /** `mayExist`: a workflow this process does not know of may be running (started before it). */
  private notify(workflowId: string, app: KubeObject, mayExist: boolean): void {
    if (!this.configsListed) return; // looked at again after the first list
    const ns = app.metadata.namespace!;
    const project = this.projects.get(`${ns}/${projectOf(app)}`);
    const known = this.notified.get(workflowId);
    // Once started, a workflow keeps hearing of changes (a removed subscription included).
    if (known === undefined && !isSubscribed(this.defaultSubscriptions.get(ns) ?? [], app, project)) return;
    const { fingerprint, holds } = notificationView(app, this.notificationConfigs.get(ns), project);
    if (known === fingerprint) return;
    const ref = { namespace: ns, name: app.metadata.name };
    if (holds) {
      this.notified.set(workflowId, fingerprint);
      this.startNotifications(workflowId, ref);
    } else if (known !== undefined || mayExist) {
      // Nothing holds: only a running workflow has something to learn (a condition that stopped holding).
      this.notified.set(workflowId, fingerprint);
      this.afterSyncs(workflowId, () =>
        this.nudger.nudge(workflowId, async () => {
          try {
            await this.opts.client.workflow.getHandle(workflowId).signal(notificationsNudgeSignal);
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
            // None runs: none is started until a condition holds.
            if (this.notified.get(workflowId) === fingerprint) this.notified.delete(workflowId);
          }
        }),
      );
    }
  }

  /** Runs `send` now, or once the burst of syncs is over (at most maxDelayMs from the first deferral). */
  private afterSyncs(workflowId: string, send: () => void): void {
    const deferral = this.opts.notificationsDeferral;
    if (!deferral?.whileSyncing || this.syncing.size < deferral.whileSyncing) {
      this.deferred.delete(workflowId);
      send();
      return;
    }
    // A later wake-up replaces an earlier one and keeps its place.
    this.deferred.set(workflowId, { since: this.deferred.get(workflowId)?.since ?? Date.now(), send });
    this.deferTimer ??= setInterval(() => {
      const due = Date.now() - deferral.maxDelayMs;
      const over = this.syncing.size < deferral.whileSyncing;
      // A few per tick: a thousand starts at once would land on the last syncs of the burst.
      let budget = RELEASED_PER_TICK;
      for (const [id, d] of this.deferred) {
        if ((!over && d.since > due) || budget-- === 0) break;
        this.deferred.delete(id);
        d.send();
      }
      if (this.deferred.size === 0) {
        clearInterval(this.deferTimer);
        this.deferTimer = undefined;
      }
    }, 250).unref();
  }

  private startNotifications(workflowId: string, ref: { namespace: string; name: string }): void {
    const { client, useSearchAttributes } = this.opts;
    const taskQueue = this.opts.notificationsTaskQueue ?? this.opts.taskQueue;
    this.afterSyncs(workflowId, () =>
      this.nudger.nudge(workflowId, async () => {
        await client.workflow.signalWithStart(notificationsWorkflow, {
          workflowId,
          taskQueue,
          args: [ref],
          signal: notificationsNudgeSignal,
          signalArgs: [],
          staticSummary: `notifications of Application ${ref.namespace}/${ref.name}`,
          ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['Notifications'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
        });
      }),
    );
  }

  private onManaged(res: ResourceRef, type: string, obj: KubeObject): void {
    const tracking = parseTrackingId(obj.metadata.annotations?.[TRACKING_ID_ANNOTATION]);
    if (!tracking) return;
    if (!this.changed(`${res.group}/${res.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, type, obj)) return;
    // A sync's own apply: the compare after that sync reads it, so a pass for it is wasted
    // (a signal and a workflow task per object synced).
    if (type !== 'DELETED' && appliedLastBySync(obj)) return;
    const workflowId = applicationWorkflowId(appFromInstance(tracking.instance));
    // askedAt: a compare of the cluster that began reading after this event covers it.
    const nudge: ApplicationNudge = { reason: `${obj.kind ?? res.plural} ${obj.metadata.name} ${type.toLowerCase()}`, managed: true, askedAt: Date.now() };
    this.nudger.nudge(workflowId, () => this.opts.client.workflow.getHandle(workflowId).signal(applicationNudgeSignal, nudge));
  }
}

/** Held notifications wake-ups let go per 250 ms once due: about what the notifications worker takes (measured 20-30 a second after a burst of 1,000). */
const RELEASED_PER_TICK = 10;

const projectOf = (app: KubeObject): string => (app as { spec?: { project?: string } }).spec?.project ?? 'default';

/**
 * What a notifications workflow could decide differently on: what the subscribed triggers
 * say of the Application (domain/notifications/firing.ts triggerView), who is subscribed,
 * its deletion; and whether any subscribed condition holds. No ConfigMap: nothing can
 * fire. A condition reading the AppProject: the whole status without its timestamps, and
 * `holds` (the workflow decides). A sync writes its status five to ten times; only one or
 * two of those change what a trigger sees.
 */
export function notificationView(app: KubeObject, cfg?: NotificationConfig, project?: KubeObject): { fingerprint: string; holds: boolean } {
  if (!cfg) return { fingerprint: 'no argocd-notifications-cm', holds: false };
  const subscriptions = subscriptionsFor(cfg, app, project);
  const view = triggerView(cfg, { app }, Object.keys(subscriptions));
  if (view !== undefined) return { fingerprint: JSON.stringify([view.view, subscriptions, app.metadata.deletionTimestamp ?? null]), holds: view.holds };
  const { reconciledAt: _r, observedAt: _o, ...status } = ((app as { status?: Record<string, unknown> }).status ?? {}) as Record<string, unknown>;
  return {
    fingerprint: JSON.stringify([
      status,
      app.metadata.deletionTimestamp ?? null,
      app.metadata.annotations ?? {},
      app.metadata.labels ?? {},
      app.metadata.generation,
    ]),
    holds: true,
  };
}

/**
 * Whether the last write to `obj` was a sync's server-side apply: the managed-fields entry
 * of Sluice's Apply is strictly newer than every other (times have whole seconds, so a
 * write by anyone else in the same second counts as theirs). Drift (an edit, another
 * controller's update, a rollout's patch) is never the sync's Apply.
 */
export function appliedLastBySync(obj: KubeObject): boolean {
  const entries = ((obj.metadata as { managedFields?: { manager?: string; operation?: string; time?: string }[] }).managedFields ?? []).filter((e) => e.time);
  const ours = entries.filter((e) => e.manager === FIELD_MANAGER && e.operation === 'Apply').map((e) => Date.parse(e.time!));
  if (ours.length === 0) return false;
  const latestOurs = Math.max(...ours);
  return entries.every((e) => (e.manager === FIELD_MANAGER && e.operation === 'Apply') || Date.parse(e.time!) < latestOurs);
}
