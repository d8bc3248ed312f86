// Turns Application changes, and changes to the resources Applications manage, into
// signals for application/<ns>/<name> workflows. An Application is started with
// signalWithStart; its own status writes (no new generation) do not wake it, but a spec
// change, a refresh annotation or an Argo-style `operation` do. A managed resource (found
// by its argocd.argoproj.io/tracking-id annotation) whose spec changed or that was
// deleted nudges its Application, which is how selfHeal sees drift.
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
import { applicationWorkflow, type ApplicationTimings } from '../workflows/application';
import { appFromInstance, parseTrackingId } from '../domain/applications/tracking';
import { inform } from '../k8s/informer';
import { Nudger } from './nudger';
import type { Shards } from './replica-shards';
import { FIELD_MANAGER, REFRESH_ANNOTATION, TRACKING_ID_ANNOTATION } from '../domain/argo/names';
import { NOTIFICATIONS_CONFIGMAP } from '../activities/notifications/activities';
import { parseNotificationConfig, type DefaultSubscription, type NotificationConfig } from '../domain/notifications/config';
import { triggerView } from '../domain/notifications/firing';
import { isSubscribed } from '../domain/notifications/subscriptions';

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
  /** Start image-update/<ns>/<name> for Applications with Image Updater's image-list annotation. */
  imageUpdates?: { intervalMs?: number };
}

export class ApplicationWatcher {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly nudger: Nudger;
  /** Last generation seen per object, so status-only updates wake nobody. */
  private readonly seen = new Map<string, string>();
  /** Last notification-relevant state per Application (see notificationFingerprint). */
  private readonly notified = new Map<string, string>();
  /** What decides whether an Application is subscribed: the ConfigMap's `subscriptions` per namespace, projects' metadata, apps' metadata. */
  private readonly defaultSubscriptions = new Map<string, DefaultSubscription[]>();
  /** The triggers per namespace, to tell which changes of an Application a trigger could see. */
  private readonly notificationConfigs = new Map<string, NotificationConfig>();
  private readonly projects = new Map<string, KubeObject>();
  private readonly appMeta = new Map<string, { metadata: KubeObject['metadata']; project: string }>();
  /** Last Image Updater annotations per Application: a change wakes its image-update workflow. */
  private readonly imageAnnotations = new Map<string, string>();

  constructor(private readonly opts: ApplicationWatcherOptions) {
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
        (type, app) => (type === 'DELETED' ? apps?.remove(app) : apps?.upsert(app), this.onApplication(type, app)),
        apps && ((items) => apps.replace(items)),
      ),
    );
    if (this.opts.notifications) {
      // A ConfigMap or project that starts subscribing Applications starts their workflows.
      this.loops.push(
        inform({ ...this.informOptions(Resources.configMap), fieldSelector: `metadata.name=${NOTIFICATIONS_CONFIGMAP}` }, (type, cm) => {
          const ns = cm.metadata.namespace!;
          if (type === 'DELETED') {
            this.defaultSubscriptions.delete(ns);
            this.notificationConfigs.delete(ns);
          } else {
            const data = (cm as { data?: Record<string, string> }).data ?? {};
            this.defaultSubscriptions.set(ns, parseNotificationConfig(data, {}, false).subscriptions);
            this.notificationConfigs.set(ns, parseNotificationConfig(data));
          }
          // Other triggers see other changes: the next change of each started workflow's Application wakes it.
          for (const workflowId of this.notified.keys())
            if (workflowId.startsWith(notificationsWorkflowId({ namespace: ns, name: '' }))) this.notified.set(workflowId, '');
          this.resubscribe((app) => app.metadata.namespace === ns);
        }),
        inform(this.informOptions(Resources.appProject), (type, project) => {
          const key = `${project.metadata.namespace}/${project.metadata.name}`;
          if (type === 'DELETED') this.projects.delete(key);
          else
            this.projects.set(key, {
              metadata: { name: project.metadata.name, namespace: project.metadata.namespace, annotations: project.metadata.annotations },
            } as KubeObject);
          this.resubscribe((app, p) => `${app.metadata.namespace}/${p}` === key);
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

  private onApplication(type: string, app: KubeObject): void {
    const ref = { namespace: app.metadata.namespace!, name: app.metadata.name };
    if (this.opts.notifications) this.onNotifiable(type, app, ref);
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
    const annotations = Object.entries(app.metadata.annotations ?? {}).filter(([k]) => k.startsWith(IMAGE_UPDATER_PREFIX));
    const fingerprint = type === 'DELETED' ? '' : JSON.stringify(annotations.sort());
    if ((this.imageAnnotations.get(workflowId) ?? '') === fingerprint) return;
    this.imageAnnotations.set(workflowId, fingerprint);
    const { client, taskQueue, useSearchAttributes } = this.opts;
    const nudge = { reason: `application ${type.toLowerCase()}` };
    if (type === 'DELETED' || !app.metadata.annotations?.[IMAGE_LIST_ANNOTATION]) {
      this.nudger.nudge(workflowId, () => client.workflow.getHandle(workflowId).signal(imageUpdateNudgeSignal, nudge));
      return;
    }
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

  /**
   * Status writes do wake the notifications workflow, but only when a trigger could see a
   * difference, and only for an Application something subscribes: the others cost nothing.
   */
  private onNotifiable(type: string, app: KubeObject, ref: { namespace: string; name: string }): void {
    const workflowId = notificationsWorkflowId(ref);
    if (type === 'DELETED') {
      this.appMeta.delete(workflowId);
      // Only a workflow that was started hears of the deletion (on-deleted).
      if (this.notified.delete(workflowId)) {
        this.nudger.nudge(workflowId, () => this.opts.client.workflow.getHandle(workflowId).signal(notificationsNudgeSignal));
      }
      return;
    }
    const project = (app as { spec?: { project?: string } }).spec?.project ?? 'default';
    this.appMeta.set(workflowId, {
      metadata: { name: app.metadata.name, namespace: app.metadata.namespace, labels: app.metadata.labels, annotations: app.metadata.annotations },
      project,
    });
    // Once started, a workflow keeps hearing of changes (a removed subscription included).
    if (!this.notified.has(workflowId) && !this.subscribed(app.metadata, ref.namespace, project)) return;
    const fingerprint = notificationFingerprint(app, this.notificationConfigs.get(ref.namespace));
    if (this.notified.get(workflowId) === fingerprint) return;
    this.notified.set(workflowId, fingerprint);
    this.startNotifications(workflowId, ref);
  }

  private subscribed(metadata: KubeObject['metadata'], namespace: string, project: string): boolean {
    return isSubscribed(this.defaultSubscriptions.get(namespace) ?? [], { metadata }, this.projects.get(`${namespace}/${project}`));
  }

  /** After a ConfigMap or project change: starts the workflows of Applications it newly subscribes. */
  private resubscribe(affects: (app: { metadata: KubeObject['metadata'] }, project: string) => boolean): void {
    for (const [workflowId, app] of this.appMeta) {
      if (this.notified.has(workflowId) || !affects(app, app.project)) continue;
      if (!this.subscribed(app.metadata, app.metadata.namespace!, app.project)) continue;
      this.notified.set(workflowId, ''); // the next change of the Application wakes it again
      this.startNotifications(workflowId, { namespace: app.metadata.namespace!, name: app.metadata.name });
    }
  }

  private startNotifications(workflowId: string, ref: { namespace: string; name: string }): void {
    const { client, taskQueue, useSearchAttributes } = this.opts;
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
    });
  }

  private onManaged(res: ResourceRef, type: string, obj: KubeObject): void {
    const tracking = parseTrackingId(obj.metadata.annotations?.[TRACKING_ID_ANNOTATION]);
    if (!tracking) return;
    if (!this.changed(`${res.group}/${res.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, type, obj)) return;
    // A sync's own apply: the compare after that sync reads it, so a pass for it is wasted
    // (a signal and a workflow task per object synced).
    if (type !== 'DELETED' && appliedLastBySync(obj)) return;
    const workflowId = applicationWorkflowId(appFromInstance(tracking.instance));
    const nudge: ApplicationNudge = { reason: `${obj.kind ?? res.plural} ${obj.metadata.name} ${type.toLowerCase()}`, managed: true };
    this.nudger.nudge(workflowId, () => this.opts.client.workflow.getHandle(workflowId).signal(applicationNudgeSignal, nudge));
  }
}

/**
 * What a notifications workflow could decide differently on: what the namespace's triggers
 * say of the Application (domain/notifications/firing.ts triggerView), its deletion, its
 * annotations and labels (subscriptions). Without the triggers (no ConfigMap seen yet, or a
 * condition reading the AppProject): the whole status without its timestamps. A sync
 * writes its status five to ten times; only one or two of those change what a trigger sees.
 */
export function notificationFingerprint(app: KubeObject, cfg?: NotificationConfig): string {
  const view = cfg ? triggerView(cfg, { app }) : undefined;
  if (view !== undefined) return JSON.stringify([view, app.metadata.deletionTimestamp ?? null, app.metadata.annotations ?? {}, app.metadata.labels ?? {}]);
  const { reconciledAt: _r, observedAt: _o, ...status } = ((app as { status?: Record<string, unknown> }).status ?? {}) as Record<string, unknown>;
  return JSON.stringify([status, app.metadata.deletionTimestamp ?? null, app.metadata.annotations ?? {}, app.metadata.labels ?? {}, app.metadata.generation]);
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
