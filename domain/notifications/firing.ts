// When a trigger fires. A condition fires when it becomes true, not while it stays true;
// with `oncePer` it fires once per value of that expression, as notifications-engine does.
// Unlike Argo, the state of what was decided and sent lives in the workflow (a plain
// object carried across continue-as-new), so a resend after a crash or on another replica
// cannot happen: the record is written before the send and again after it.

import { compileCondition, type CompiledCondition } from '../analysis/condition';
import type { NotificationConfig } from './config';
import type { Destination, Subscriptions } from './subscriptions';

export type SendStatus = 'pending' | 'sent' | 'failed';

export interface NotificationState {
  /** Per trigger condition (`<trigger>[<index>]`): whether it held last time, and how often it became true. */
  conditions: Record<string, { on: boolean; flips: number }>;
  /** Firing key (see firingKey) → what became of the send. */
  sends: Record<string, SendStatus>;
}

export const emptyNotificationState = (): NotificationState => ({ conditions: {}, sends: {} });

export interface Firing {
  /** Unique per trigger condition, occurrence (oncePer value or flip count) and destination. */
  key: string;
  trigger: string;
  condition: number;
  templates: string[];
  destination: Destination;
}

export interface Decision {
  firings: Firing[];
  state: NotificationState;
  /** Triggers that are not defined or cannot be evaluated, by name. */
  problems: string[];
}

// Compiled conditions, by expression: the same few triggers are evaluated on every status change.
const compiled = new Map<string, CompiledCondition>();
function compile(expression: string, label: string): CompiledCondition {
  let c = compiled.get(expression);
  if (!c) {
    c = compileCondition(expression, label, ['app', 'appProject', 'context']);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(expression, c);
  }
  return c;
}

export function firingKey(condKey: string, occurrence: string, d: Destination): string {
  return `${condKey}|${occurrence}|${d.service}:${d.recipient}`;
}

export interface TriggerView {
  /** Whether each condition holds and its oncePer value, as a string to compare. */
  view: string;
  /** Whether any condition holds: until one does, there is nothing to send or remember. */
  holds: boolean;
}

/**
 * What the given triggers' conditions say of the Application now (whether each holds, and
 * its oncePer value): decideNotifications can only decide differently when this changes,
 * and it decides nothing while no condition holds and it has never seen one hold (its state
 * then equals the empty state). So the watcher starts a notifications workflow only when a
 * subscribed condition holds and wakes it only when this changes. Undefined when a
 * condition reads the AppProject, which the watcher does not keep.
 */
export function triggerView(
  cfg: Pick<NotificationConfig, 'triggers' | 'context'>,
  vars: { app: unknown; context?: Record<string, string> },
  triggers: readonly string[] = Object.keys(cfg.triggers),
): TriggerView | undefined {
  const env = { result: undefined, vars: { app: vars.app, appProject: null, context: vars.context ?? cfg.context } };
  const view: [string, boolean, string][] = [];
  let any = false;
  for (const trigger of [...triggers].sort()) {
    for (const [index, c] of (cfg.triggers[trigger] ?? []).entries()) {
      if (/\bappProject\b/.test(`${c.when} ${c.oncePer ?? ''}`)) return undefined;
      let holds = false;
      let once = '';
      try {
        holds = compile(c.when, `trigger ${trigger} when`).evaluate(env);
        if (holds && c.oncePer) once = JSON.stringify(compile(c.oncePer, `trigger ${trigger} oncePer`).value(env) ?? '');
      } catch {
        // As decideNotifications: a condition that cannot be evaluated does not hold.
      }
      any ||= holds;
      view.push([`${trigger}[${index}]`, holds, once]);
    }
  }
  return { view: JSON.stringify(view), holds: any };
}

/**
 * Evaluates the subscribed triggers against the Application and returns what to send now.
 * The returned state already counts the condition flips; the caller marks each firing's
 * key 'pending' before sending and 'sent' or 'failed' after.
 */
export function decideNotifications(
  cfg: Pick<NotificationConfig, 'triggers' | 'context'>,
  subscriptions: Subscriptions,
  vars: { app: unknown; appProject?: unknown; context?: Record<string, string> },
  previous: NotificationState,
): Decision {
  const state: NotificationState = { conditions: { ...previous.conditions }, sends: { ...previous.sends } };
  const firings: Firing[] = [];
  const problems: string[] = [];
  const env = { result: undefined, vars: { app: vars.app, appProject: vars.appProject ?? null, context: vars.context ?? cfg.context } };
  for (const trigger of Object.keys(subscriptions).sort()) {
    const conditions = cfg.triggers[trigger];
    if (!conditions) {
      problems.push(`trigger ${trigger} is not defined`);
      continue;
    }
    conditions.forEach((c, index) => {
      const condKey = `${trigger}[${index}]`;
      let holds = false;
      let occurrence = '';
      try {
        const value = compile(c.when, `trigger ${trigger} when`).evaluate(env);
        if (value && c.oncePer) occurrence = `once:${JSON.stringify(compile(c.oncePer, `trigger ${trigger} oncePer`).value(env) ?? '')}`;
        holds = value;
      } catch (err) {
        // A field that is not there yet (no operationState) is the usual cause; Argo does not send either.
        if (!/cannot fetch .* from nil|got nil/.test(String(err))) problems.push(err instanceof Error ? err.message : String(err));
      }
      const before = state.conditions[condKey] ?? { on: false, flips: 0 };
      const now = { on: holds, flips: holds && !before.on ? before.flips + 1 : before.flips };
      state.conditions[condKey] = now;
      if (!holds) {
        // Forget the sends of the finished occurrence; oncePer records stay (once per value, forever).
        if (!c.oncePer) {
          for (const k of Object.keys(state.sends)) if (k.startsWith(`${condKey}|flip:`) && state.sends[k] !== 'pending') delete state.sends[k];
        }
        return;
      }
      if (!c.oncePer) occurrence = `flip:${now.flips}`;
      for (const d of subscriptions[trigger]) {
        const key = firingKey(condKey, occurrence, d);
        if (state.sends[key] !== undefined) continue;
        firings.push({ key, trigger, condition: index, templates: c.send, destination: d });
      }
    });
  }
  return { firings, state, problems };
}
