// argocd-notifications-cm, read as Argo's notifications-engine reads it (pkg/api/config.go):
// `trigger.<name>`, `template.<name>`, `service.<type>[.<name>]`, `defaultTriggers[.<service>]`,
// `subscriptions`, `context`. `$key` in a service's YAML is replaced by the Secret's value.
// Pure: the caller reads the ConfigMap and Secret. Secret values never appear in problems.

import { parse } from 'yaml';
import { BUILTIN_TEMPLATES, BUILTIN_TRIGGERS } from './catalog';

export interface TriggerCondition {
  /** '' in Argo Rollouts' triggers: they fire on the Rollout's events, never on a condition. */
  when: string;
  send: string[];
  oncePer?: string;
  description?: string;
}

/** A template: `message`, `title`/`subject` (email), and per-service blocks (`slack`, `webhook`, `email`, ...). */
export interface NotificationTemplate {
  message?: string;
  title?: string;
  [service: string]: unknown;
}

export interface ServiceConfig {
  /** The service type: `slack`, `webhook`, `email`, ... */
  type: string;
  /** The name subscriptions use: `slack`, or `<name>` for `service.<type>.<name>`. */
  name: string;
  /** The YAML with `$key` references already replaced. Holds secrets: never log it. */
  options: Record<string, unknown>;
  /** `$key` references the Secret does not hold: the service refuses to send rather than send `$key` as a credential. */
  missingSecrets?: string[];
}

export interface DefaultSubscription {
  recipients: string[];
  triggers: string[];
  /** A label selector in `k=v,k2=v2` form; empty selects every object. */
  selector?: string;
}

export interface NotificationConfig {
  triggers: Record<string, TriggerCondition[]>;
  templates: Record<string, NotificationTemplate>;
  services: Record<string, ServiceConfig>;
  defaultTriggers: string[];
  /** `defaultTriggers.<service>`: the default triggers for one service. */
  serviceDefaultTriggers: Record<string, string[]>;
  subscriptions: DefaultSubscription[];
  context: Record<string, string>;
  /** What could not be read, naming the key; the rest of the config still works. */
  problems: string[];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A controller's built-in triggers and templates, and whether its triggers are conditions (`when`) or events. */
export interface NotificationCatalog {
  triggers: Record<string, TriggerCondition[]>;
  templates: Record<string, NotificationTemplate>;
  /** Argo Rollouts' triggers fire on events: a `when` is neither needed nor read. */
  eventTriggers?: boolean;
}

export const ARGO_CD_CATALOG: NotificationCatalog = { triggers: BUILTIN_TRIGGERS, templates: BUILTIN_TEMPLATES };

/**
 * Parses the ConfigMap's data. `secret` is the Secret's data already base64-decoded.
 * `builtins` adds a catalog (Argo CD's on-deployed, ... by default) under the names the
 * ConfigMap does not define; false adds none.
 */
export function parseNotificationConfig(
  data: Record<string, string>,
  secret: Record<string, string> = {},
  builtins: boolean | NotificationCatalog = true,
): NotificationConfig {
  const catalog = builtins === true ? ARGO_CD_CATALOG : builtins === false ? undefined : builtins;
  const cfg: NotificationConfig = {
    triggers: catalog ? structuredClone(catalog.triggers) : {},
    templates: catalog ? structuredClone(catalog.templates) : {},
    services: {},
    defaultTriggers: [],
    serviceDefaultTriggers: {},
    subscriptions: [],
    context: {},
    problems: [],
  };
  for (const [key, raw] of Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let value: unknown;
    try {
      value = parse(raw);
    } catch (err) {
      cfg.problems.push(`${key}: invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      continue;
    }
    if (key.startsWith('trigger.')) {
      const trigger = readTrigger(key, value, cfg.problems, catalog?.eventTriggers === true);
      if (trigger) cfg.triggers[key.slice('trigger.'.length)] = trigger;
    } else if (key.startsWith('template.')) {
      if (isMap(value)) cfg.templates[key.slice('template.'.length)] = value as NotificationTemplate;
      else cfg.problems.push(`${key}: expected a mapping with message, title and per-service fields`);
    } else if (key.startsWith('service.')) {
      const [type, ...rest] = key.slice('service.'.length).split('.');
      const name = rest.length > 0 ? rest.join('.') : type;
      const options = value === null ? {} : value;
      if (!type || !isMap(options)) {
        cfg.problems.push(`${key}: expected a mapping of service options`);
        continue;
      }
      const missing = new Set<string>();
      const resolved = replaceSecrets(options, secret, missing) as Record<string, unknown>;
      if (missing.size > 0) {
        cfg.problems.push(`${key}: ${[...missing].map((k) => `$${k}`).join(', ')} not found in argocd-notifications-secret`);
      }
      cfg.services[name] = { type, name, options: resolved, ...(missing.size > 0 ? { missingSecrets: [...missing] } : {}) };
    } else if (key === 'defaultTriggers') {
      cfg.defaultTriggers = strings(value);
    } else if (key.startsWith('defaultTriggers.')) {
      cfg.serviceDefaultTriggers[key.slice('defaultTriggers.'.length)] = strings(value);
    } else if (key === 'subscriptions') {
      if (!Array.isArray(value)) cfg.problems.push('subscriptions: expected a list');
      for (const s of Array.isArray(value) ? value : []) {
        if (!isMap(s)) continue;
        cfg.subscriptions.push({
          recipients: strings(s.recipients),
          triggers: strings(s.triggers),
          ...(typeof s.selector === 'string' && s.selector !== '' ? { selector: s.selector } : {}),
        });
      }
    } else if (key === 'context') {
      if (isMap(value)) for (const [k, v] of Object.entries(value)) cfg.context[k] = String(v);
    }
  }
  for (const [name, conditions] of Object.entries(cfg.triggers)) {
    for (const c of conditions) {
      for (const t of c.send) if (!cfg.templates[t]) cfg.problems.push(`trigger.${name}: template ${t} is not defined`);
    }
  }
  return cfg;
}

function readTrigger(key: string, value: unknown, problems: string[], events: boolean): TriggerCondition[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${key}: expected a list of conditions ({when, send, oncePer, description})`);
    return undefined;
  }
  const out: TriggerCondition[] = [];
  for (const [i, c] of value.entries()) {
    if (!isMap(c) || (!events && (typeof c.when !== 'string' || c.when.trim() === ''))) {
      problems.push(`${key}[${i}]: a condition needs a \`when\` expression`);
      return undefined;
    }
    out.push({
      when: typeof c.when === 'string' ? c.when : '',
      send: strings(c.send),
      ...(typeof c.oncePer === 'string' && c.oncePer !== '' ? { oncePer: c.oncePer } : {}),
      ...(typeof c.description === 'string' ? { description: c.description } : {}),
    });
  }
  return out;
}

/** `$key` (a whole string) → the Secret's value, as Argo's config does; missing keys are collected, not shown. */
function replaceSecrets(v: unknown, secret: Record<string, string>, missing: Set<string>): unknown {
  if (typeof v === 'string') {
    if (!v.startsWith('$') || v.length < 2) return v;
    const k = v.slice(1);
    if (Object.prototype.hasOwnProperty.call(secret, k)) return secret[k];
    missing.add(k);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => replaceSecrets(x, secret, missing));
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceSecrets(x, secret, missing)]));
  return v;
}
