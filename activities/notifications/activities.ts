// The notification activities: read what an Application is subscribed to (no secrets: the
// result goes into workflow history), send one firing to one recipient (secrets read here,
// never returned or logged), and record a send that finally failed as a Kubernetes Event.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { isConflict, Resources, type KubeClient, type KubeObject } from '../../k8s/kube-client';
import { parseNotificationConfig, type NotificationConfig, type TriggerCondition } from '../../domain/notifications/config';
import { subscriptionsFor, type Destination, type Subscriptions } from '../../domain/notifications/subscriptions';
import { renderNotification } from './render';
import { PermanentSendError, serviceKey } from './service';
import { SERVICES } from './services';

export const NOTIFICATIONS_CONFIGMAP = 'argocd-notifications-cm';
export const NOTIFICATIONS_SECRET = 'argocd-notifications-secret';

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

export interface SendNotificationInput {
  app: KubeObject;
  appProject: KubeObject | null;
  trigger: string;
  templates: string[];
  destination: Destination;
  idempotencyKey: string;
}

export interface NotificationFailure {
  app: AppRef;
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
  // Per namespace: the parsed config and secrets, re-read at most every few seconds.
  const cache = new Map<string, { at: number; cfg: NotificationConfig | undefined; secrets: Record<string, string> }>();
  async function config(namespace: string) {
    const hit = cache.get(namespace);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const [cm, secret] = await Promise.all([
      kube.find<KubeObject & { data?: Record<string, string> }>(Resources.configMap, namespace, NOTIFICATIONS_CONFIGMAP),
      kube.find<KubeObject & { data?: Record<string, string> }>(Resources.secret, namespace, NOTIFICATIONS_SECRET),
    ]);
    const secrets = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    const entry = { at: Date.now(), cfg: cm ? parseNotificationConfig(cm.data ?? {}, secrets) : undefined, secrets };
    cache.set(namespace, entry);
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

    async sendNotification(input: SendNotificationInput): Promise<void> {
      const ns = input.app.metadata.namespace!;
      const { cfg, secrets } = await config(ns);
      try {
        if (!cfg) throw new PermanentSendError(`${NOTIFICATIONS_CONFIGMAP} not found in namespace ${ns}`);
        const service = cfg.services[input.destination.service];
        if (!service) throw new PermanentSendError(`service ${input.destination.service} is not configured in ${NOTIFICATIONS_CONFIGMAP}`);
        const impl = SERVICES[service.type];
        if (!impl) throw new PermanentSendError(`${serviceKey(service)}: unknown service type ${service.type} (known: ${Object.keys(SERVICES).join(', ')})`);
        if (service.missingSecrets?.length) {
          throw new PermanentSendError(`${serviceKey(service)}: ${service.missingSecrets.map((k) => `$${k}`).join(', ')} not found in ${NOTIFICATIONS_SECRET}`);
        }
        const notification = await renderNotification(cfg.templates, input.templates, {
          app: input.app,
          appProject: input.appProject,
          context: cfg.context,
          secrets,
          serviceType: service.type,
        }).catch((err: unknown) => {
          throw new PermanentSendError(`trigger ${input.trigger}: ${err instanceof Error ? err.message : String(err)}`);
        });
        await impl.send(notification, input.destination, service, { idempotencyKey: input.idempotencyKey });
      } catch (err) {
        // The services never put credentials in their messages; this is the last guard, as the
        // message goes into workflow history and an Event.
        const message = redactSecrets(err instanceof Error ? err.message : String(err), secrets);
        if (err instanceof PermanentSendError) throw ApplicationFailure.nonRetryable(message, 'NotificationRefused');
        throw ApplicationFailure.retryable(message, 'NotificationNotDelivered');
      }
    },

    /** A Warning Event on the Application, once per failed firing (its name derives from the key). */
    async recordNotificationFailure(f: NotificationFailure): Promise<void> {
      const name = `${f.app.name}.notification-${createHash('sha256').update(f.idempotencyKey).digest('hex').slice(0, 16)}`;
      const now = new Date().toISOString();
      const recipient = f.destination.recipient ? `${f.destination.service}:${f.destination.recipient}` : f.destination.service;
      try {
        await kube.create(Resources.event, f.app.namespace, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: f.app.namespace },
          involvedObject: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', name: f.app.name, namespace: f.app.namespace, uid: f.uid },
          reason: 'NotificationFailed',
          type: 'Warning',
          message: `notification of trigger ${f.trigger} to ${recipient} failed: ${f.message}`.slice(0, 1000),
          source: { component: 'sluice-notifications' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        });
      } catch (err) {
        if (isConflict(err)) return; // recorded by an earlier attempt
        throw err;
      }
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
