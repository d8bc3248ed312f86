// Renders a firing's templates with the Go engine and Argo's notification functions, with
// `.app`, `.appProject`, `.context`, `.secrets`, `.serviceType`. Several templates merge, later
// fields over earlier ones, as notifications-engine does. A failure names the template.
import type { NotificationTemplate } from '../../domain/notifications/config';
import { GoTemplateError, renderTemplateObject } from '../templating/go-template';
import type { Notification } from './service';
import { SERVICES } from './services';

/** `.app`/`.appProject` for Argo CD; `.rollout`, `.analysisRuns` for Argo Rollouts (`.time` and the other function namespaces come with the engine). */
export interface TemplateData {
  app?: unknown;
  appProject?: unknown;
  rollout?: unknown;
  analysisRuns?: unknown;
  context: Record<string, string>;
  secrets: Record<string, string>;
  serviceType: string;
}

export async function renderNotification(templates: Record<string, NotificationTemplate>, names: readonly string[], data: TemplateData): Promise<Notification> {
  let out: Notification = {};
  for (const name of names) {
    const template = templates[name];
    if (!template) throw new Error(`template ${name} is not defined`);
    let rendered: NotificationTemplate;
    try {
      const vars = data.rollout === undefined ? { ...data, appProject: data.appProject ?? null } : data;
      rendered = await renderTemplateObject(withServiceDefaults(template), vars as unknown as Record<string, unknown>, {
        functions: 'notifications',
        name,
      });
    } catch (err) {
      // Go's message names the template and position; it never holds data values.
      throw new Error(`template ${name}: ${err instanceof GoTemplateError ? err.message : String(err)}`, { cause: err });
    }
    out = merge(out, rendered as Notification);
  }
  return out;
}

/** A service's block gets the service's default fields it leaves out (github's repoURLPath), as Argo's templaters do. */
function withServiceDefaults(template: NotificationTemplate): NotificationTemplate {
  const out: NotificationTemplate = { ...template };
  for (const [key, value] of Object.entries(template)) {
    const defaults = Object.prototype.hasOwnProperty.call(SERVICES, key) ? SERVICES[key]!.templateDefaults : undefined;
    if (defaults && isMap(value)) out[key] = { ...defaults, ...value };
  }
  return out;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Notification {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isMap(prev) && isMap(v) ? merge(prev, v) : v;
  }
  return out;
}
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
