// The notification activities: read what an Application is subscribed to (no secrets: the
// result goes into workflow history), send one firing to one recipient (secrets read here,
// never returned or logged), and record a send that finally failed as a Kubernetes Event.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isConflict, Resources, type KubeClient, type KubeObject } from '../../k8s/kube-client';
import { ARGO_CD_CATALOG, parseNotificationConfig, type NotificationConfig, type TriggerCondition } from '../../domain/notifications/config';
import { ROLLOUTS_CATALOG } from '../../domain/notifications/rollout-catalog';
import { observeRollout, type RolloutObservation } from '../../domain/notifications/rollout-events';
import { subscriptionsFor, type Destination, type Subscriptions } from '../../domain/notifications/subscriptions';
import { renderNotification } from './render';
import { recordNotificationSend } from './metrics';
import { PermanentSendError, serviceKey } from './service';
import { SERVICES } from './services';

export const NOTIFICATIONS_CONFIGMAP = 'argocd-notifications-cm';
export const NOTIFICATIONS_SECRET = 'argocd-notifications-secret';
/** Argo Rollouts' own, read in the Rollout's namespace. */
export const ROLLOUT_NOTIFICATIONS_CONFIGMAP = 'argo-rollouts-notification-configmap';
export const ROLLOUT_NOTIFICATIONS_SECRET = 'argo-rollouts-notification-secret';

const CONTROLLERS = {
  Application: { configMap: NOTIFICATIONS_CONFIGMAP, secret: NOTIFICATIONS_SECRET, catalog: ARGO_CD_CATALOG },
  Rollout: { configMap: ROLLOUT_NOTIFICATIONS_CONFIGMAP, secret: ROLLOUT_NOTIFICATIONS_SECRET, catalog: ROLLOUTS_CATALOG },
} as const;
type SubjectKind = keyof typeof CONTROLLERS;

export interface AppRef {
  namespace: string;
  name: string;
}

export interface NotificationSubject {
  /** The Application as read, without managedFields. */
  app: KubeObject;
  appProject: KubeObject | null;
  context: Record<string, string>;
  /** Only the triggers the Application is subscribed to. */
  triggers: Record<string, TriggerCondition[]>;
  subscriptions: Subscriptions;
  /** Configuration problems, naming the key; never secret values. */
  problems: string[];
}

export interface RolloutNotificationSubject {
  rollout: KubeObject;
  /** The AnalysisRuns the Rollout owns (`.analysisRuns` in templates). */
  analysisRuns: KubeObject[];
  observation: RolloutObservation;
  triggers: Record<string, TriggerCondition[]>;
  subscriptions: Subscriptions;
  problems: string[];
}

export interface SendNotificationInput {
  /** The Application, or for a Rollout's notification (`rollout` set) the Rollout: where the ConfigMap is read. */
  app: KubeObject;
  appProject: KubeObject | null;
  /** A Rollout's notification: templates see `.rollout` and `.analysisRuns` instead of `.app` (and `.time` as ever). */
  rollout?: { analysisRuns: KubeObject[] };
  trigger: string;
  templates: string[];
  destination: Destination;
  idempotencyKey: string;
}

export interface NotificationFailure {
  /** The object the Event goes on: an Application unless `kind` says Rollout. */
  app: AppRef;
  kind?: SubjectKind;
  uid: string;
  trigger: string;
  destination: Destination;
  message: string;
  idempotencyKey: string;
}

const CACHE_MS = 5_000;

/** Every Secret value (and its base64, as in a Basic header) found in a message, replaced by `***`. */
export function redactSecrets(message: string, secrets: Record<string, string>): string {
  let out = message;
  const values = Object.values(secrets)
    .flatMap((v) => [v, Buffer.from(v).toString('base64')])
    .filter((v) => v.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const v of values) out = out.split(v).join('***');
  return out;
}

const trim = (o: KubeObject | undefined): KubeObject | null => {
  if (!o) return null;
  const { managedFields: _, ...metadata } = o.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  return { ...o, metadata } as KubeObject;
};

export function createNotificationActivities(kube: KubeClient) {
  // Per controller and namespace: the parsed config and secrets, re-read at most every few seconds.
  const cache = new Map<string, { at: number; cfg: NotificationConfig | undefined; secrets: Record<string, string> }>();
  async function config(namespace: string, kind: SubjectKind = 'Application') {
    const hit = cache.get(`${kind}/${namespace}`);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const names = CONTROLLERS[kind];
    const [cm, secret] = await Promise.all([
      kube.find<KubeObject & { data?: Record<string, string> }>(Resources.configMap, namespace, names.configMap),
      kube.find<KubeObject & { data?: Record<string, string> }>(Resources.secret, namespace, names.secret),
    ]);
    const secrets = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    const entry = { at: Date.now(), cfg: cm ? parseNotificationConfig(cm.data ?? {}, secrets, names.catalog) : undefined, secrets };
    cache.set(`${kind}/${namespace}`, entry);
    return entry;
  }

  return {
    async readNotificationSubject(ref: AppRef): Promise<NotificationSubject | undefined> {
      const app = await kube.find(Resources.application, ref.namespace, ref.name);
      if (!app) return undefined;
      const { cfg } = await config(ref.namespace);
      const project = (app as { spec?: { project?: string } }).spec?.project;
      const appProject = project && cfg ? await kube.find(Resources.appProject, ref.namespace, project) : undefined;
      const problems = [...(cfg?.problems ?? [])];
      const subscriptions = cfg ? subscriptionsFor(cfg, app, appProject, problems) : {};
      const triggers = Object.fromEntries(Object.keys(subscriptions).flatMap((t) => (cfg?.triggers[t] ? [[t, cfg.triggers[t]]] : [])));
      return { app: trim(app)!, appProject: trim(appProject), context: cfg?.context ?? {}, triggers, subscriptions, problems };
    },

    /** A Rollout, its ReplicaSets' sizes and its AnalysisRuns' phases, and what it is subscribed to (no secrets: this goes into history). */
    async readRolloutNotificationSubject(ref: AppRef): Promise<RolloutNotificationSubject | undefined> {
      const rollout = await kube.find(Resources.rollout, ref.namespace, ref.name);
      if (!rollout) return undefined;
      const uid = rollout.metadata.uid;
      const owned = (o: KubeObject) => (o.metadata as { ownerReferences?: { uid?: string }[] }).ownerReferences?.some((r) => r.uid === uid) === true;
      const [{ cfg }, replicaSets, runs] = await Promise.all([
        config(ref.namespace, 'Rollout'),
        kube.list(Resources.replicaSet, ref.namespace),
        kube.list(Resources.analysisRun, ref.namespace),
      ]);
      const analysisRuns = runs.items.filter(owned).map((r) => trim(r)!);
      const observation = observeRollout(
        rollout,
        replicaSets.items
          .filter(owned)
          .map((rs) => ({ name: rs.metadata.name, replicas: Number((rs as { spec?: { replicas?: number } }).spec?.replicas ?? 0) })),
        analysisRuns.map((r) => ({ name: r.metadata.name, phase: (r as { status?: { phase?: string } }).status?.phase })),
      );
      const problems = [...(cfg?.problems ?? [])];
      const subscriptions = cfg ? subscriptionsFor(cfg, rollout, undefined, problems) : {};
      const triggers = Object.fromEntries(Object.keys(subscriptions).flatMap((t) => (cfg?.triggers[t] ? [[t, cfg.triggers[t]]] : [])));
      return { rollout: trim(rollout)!, analysisRuns, observation, triggers, subscriptions, problems };
    },

    async sendNotification(input: SendNotificationInput): Promise<void> {
      const ns = input.app.metadata.namespace!;
      const kind: SubjectKind = input.rollout ? 'Rollout' : 'Application';
      const { cfg, secrets } = await config(ns, kind);
      const configMap = CONTROLLERS[kind].configMap;
      try {
        if (!cfg) throw new PermanentSendError(`${configMap} not found in namespace ${ns}`);
        const service = cfg.services[input.destination.service];
        if (!service) throw new PermanentSendError(`service ${input.destination.service} is not configured in ${configMap}`);
        const impl = SERVICES[service.type];
        if (!impl) throw new PermanentSendError(`${serviceKey(service)}: unknown service type ${service.type} (known: ${Object.keys(SERVICES).join(', ')})`);
        if (service.missingSecrets?.length) {
          throw new PermanentSendError(
            `${serviceKey(service)}: ${service.missingSecrets.map((k) => `$${k}`).join(', ')} not found in ${CONTROLLERS[kind].secret}`,
          );
        }
        const data = input.rollout
          ? { rollout: input.app, analysisRuns: input.rollout.analysisRuns, context: cfg.context, secrets, serviceType: service.type }
          : { app: input.app, appProject: input.appProject, context: cfg.context, secrets, serviceType: service.type };
        const notification = await renderNotification(cfg.templates, input.templates, data).catch((err: unknown) => {
          throw new PermanentSendError(`trigger ${input.trigger}: ${err instanceof Error ? err.message : String(err)}`);
        });
        await withHeartbeats((signal) => impl.send(notification, input.destination, service, { idempotencyKey: input.idempotencyKey, signal }));
        recordNotificationSend(ns, input.destination.service, input.trigger, 'delivered');
      } catch (err) {
        // The services never put credentials in their messages; this is the last guard, as the
        // message goes into workflow history and an Event.
        const message = redactSecrets(err instanceof Error ? err.message : String(err), secrets);
        if (err instanceof PermanentSendError) throw ApplicationFailure.nonRetryable(message, 'NotificationRefused');
        throw ApplicationFailure.retryable(message, 'NotificationNotDelivered');
      }
    },

    /** A Warning Event on the Application (or Rollout), once per failed firing (its name derives from the key). */
    async recordNotificationFailure(f: NotificationFailure): Promise<void> {
      const name = `${f.app.name}.notification-${createHash('sha256').update(f.idempotencyKey).digest('hex').slice(0, 16)}`;
      const now = new Date().toISOString();
      const recipient = f.destination.recipient ? `${f.destination.service}:${f.destination.recipient}` : f.destination.service;
      try {
        await kube.create(Resources.event, f.app.namespace, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: f.app.namespace },
          involvedObject: { apiVersion: 'argoproj.io/v1alpha1', kind: f.kind ?? 'Application', name: f.app.name, namespace: f.app.namespace, uid: f.uid },
          reason: 'NotificationFailed',
          type: 'Warning',
          message: `notification of trigger ${f.trigger} to ${recipient} failed: ${f.message}`.slice(0, 1000),
          source: { component: 'sluice-notifications' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        });
      } catch (err) {
        if (isConflict(err)) return; // recorded (and counted) by an earlier attempt
        throw err;
      }
      recordNotificationSend(f.app.namespace, f.destination.service, f.trigger, 'failed');
    },
  };
}

/**
 * Heartbeats while a send is in flight, so a send whose worker died is retried elsewhere
 * within the heartbeat timeout rather than the whole start-to-close timeout.
 */
async function withHeartbeats<T>(send: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return send(undefined); // called outside an activity (unit tests)
  }
  const beat = setInterval(() => ctx.heartbeat(), 2_000);
  try {
    return await send(ctx.cancellationSignal);
  } finally {
    clearInterval(beat);
  }
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
