// Who is subscribed to what: annotations on the Application and its AppProject
// (`notifications.argoproj.io/subscribe.<trigger>.<service>: r1;r2`, `subscribe.<service>`
// for the default triggers, the YAML `notifications.argoproj.io/subscriptions`) and the
// ConfigMap's `subscriptions`, as notifications-engine's pkg/subscriptions reads them.

import { parse } from 'yaml';
import type { DefaultSubscription, NotificationConfig } from './config';

export const NOTIFICATIONS_ANNOTATION_PREFIX = 'notifications.argoproj.io';
const SUBSCRIBE = `${NOTIFICATIONS_ANNOTATION_PREFIX}/subscribe.`;
const SUBSCRIPTIONS = `${NOTIFICATIONS_ANNOTATION_PREFIX}/subscriptions`;

export interface Destination {
  service: string;
  /** A channel, address or URL path; '' when the subscription names none. */
  recipient: string;
}

/** trigger name → destinations, without duplicates, in a stable order. */
export type Subscriptions = Record<string, Destination[]>;

interface Subscribed {
  metadata?: { annotations?: Record<string, string> | null; labels?: Record<string, string> | null } | null;
}

const recipients = (v: string): string[] => v.split(';').map((r) => r.trim());

function add(out: Subscriptions, trigger: string, d: Destination): void {
  const list = (out[trigger] ??= []);
  if (!list.some((x) => x.service === d.service && x.recipient === d.recipient)) list.push(d);
}

function defaultTriggersFor(cfg: NotificationConfig, service: string): string[] {
  return cfg.serviceDefaultTriggers[service] ?? cfg.defaultTriggers;
}

/** One object's own annotations. Problems (bad YAML) are named and the rest still counts. */
export function annotationSubscriptions(cfg: NotificationConfig, obj: Subscribed, problems: string[] = []): Subscriptions {
  const out: Subscriptions = {};
  const annotations = obj.metadata?.annotations ?? {};
  for (const key of Object.keys(annotations).sort()) {
    const value = annotations[key] ?? '';
    if (key.startsWith(SUBSCRIBE)) {
      const parts = key.slice(SUBSCRIBE.length).split('.');
      const service = parts[parts.length - 1];
      if (!service) continue;
      const triggers = parts.length === 1 ? defaultTriggersFor(cfg, service) : [parts.slice(0, -1).join('.')];
      for (const t of triggers) for (const r of recipients(value)) add(out, t, { service, recipient: r });
    } else if (key === SUBSCRIPTIONS) {
      let list: unknown;
      try {
        list = parse(value);
      } catch {
        problems.push(`annotation ${SUBSCRIPTIONS}: invalid YAML`);
        continue;
      }
      for (const s of Array.isArray(list) ? list : []) {
        if (typeof s !== 'object' || s === null) continue;
        const rec = s as { trigger?: unknown; destinations?: unknown };
        const triggers = typeof rec.trigger === 'string' ? [rec.trigger] : Array.isArray(rec.trigger) ? rec.trigger.map(String) : [];
        for (const d of Array.isArray(rec.destinations) ? rec.destinations : []) {
          const dest = d as { service?: unknown; recipients?: unknown };
          if (typeof dest.service !== 'string') continue;
          const rs = Array.isArray(dest.recipients) && dest.recipients.length > 0 ? dest.recipients.map(String) : [''];
          const ts = triggers.length > 0 ? triggers : defaultTriggersFor(cfg, dest.service);
          for (const t of ts) for (const r of rs) add(out, t, { service: dest.service, recipient: r });
        }
      }
    }
  }
  return out;
}

/** `k=v,k2=v2` and `k` (exists) selectors; anything else selects nothing. */
export function selectorMatches(selector: string | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const t = term.trim();
    const ne = t.split('!=');
    if (ne.length === 2) return labels[ne[0].trim()] !== ne[1].trim();
    const eq = t.split(/==?/);
    if (eq.length === 2) return labels[eq[0].trim()] === eq[1].trim();
    return Object.prototype.hasOwnProperty.call(labels, t);
  });
}

/** Everything the Application is subscribed to: its annotations, its project's, and the ConfigMap's. */
export function subscriptionsFor(cfg: NotificationConfig, app: Subscribed, project?: Subscribed, problems: string[] = []): Subscriptions {
  const out: Subscriptions = {};
  const merge = (s: Subscriptions): void => {
    for (const [t, ds] of Object.entries(s)) for (const d of ds) add(out, t, d);
  };
  merge(annotationSubscriptions(cfg, app, problems));
  if (project) merge(annotationSubscriptions(cfg, project, problems));
  const labels = app.metadata?.labels ?? {};
  for (const s of cfg.subscriptions) {
    if (!selectorMatches(s.selector, labels)) continue;
    for (const r of s.recipients) {
      const i = r.indexOf(':');
      const d: Destination = i < 0 ? { service: r, recipient: '' } : { service: r.slice(0, i), recipient: r.slice(i + 1) };
      const triggers = s.triggers.length > 0 ? s.triggers : defaultTriggersFor(cfg, d.service);
      for (const t of triggers) add(out, t, d);
    }
  }
  return out;
}

/** Whether an object carries any subscription annotation (the watcher's cheap test before starting a workflow). */
export function hasSubscriptionAnnotation(obj: Subscribed | null | undefined): boolean {
  return Object.keys(obj?.metadata?.annotations ?? {}).some((k) => k.startsWith(SUBSCRIBE) || k === SUBSCRIPTIONS);
}

/**
 * Whether anything subscribes the object: its own annotations, its project's, or a
 * ConfigMap `subscriptions` entry whose selector matches its labels. Objects for which
 * this is false get no notifications workflow at all.
 */
export function isSubscribed(subscriptions: readonly DefaultSubscription[], obj: Subscribed, project?: Subscribed | null): boolean {
  if (hasSubscriptionAnnotation(obj) || hasSubscriptionAnnotation(project)) return true;
  const labels = obj.metadata?.labels ?? {};
  return subscriptions.some((s) => s.recipients.length > 0 && selectorMatches(s.selector, labels));
}
