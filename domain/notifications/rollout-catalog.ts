// The triggers and templates Argo Rollouts ships (notifications-install.yaml), usable without
// writing them. Rollouts' triggers name an event of the Rollout (RolloutAborted →
// on-rollout-aborted) and carry no `when`: the controller sends when the event happens.

import type { NotificationCatalog, NotificationTemplate, TriggerCondition } from './config';

/** Argo Rollouts' trigger name for an event reason: `RolloutStepCompleted` → `on-rollout-step-completed`. */
export function triggerForReason(reason: string): string {
  return `on-${reason
    .replace(/(.)([A-Z][a-z]+)/g, '$1-$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()}`;
}

/** The events Sluice derives for a Rollout (domain/notifications/rollout-events.ts), each with its built-in template. */
const EVENTS: Record<string, { template: string; message: string; color: string }> = {
  RolloutCompleted: { template: 'rollout-completed', message: 'Rollout {{.rollout.metadata.name}} has been completed.', color: '#18be52' },
  RolloutStepCompleted: {
    template: 'rollout-step-completed',
    message:
      'Rollout {{.rollout.metadata.name}} step number {{ add .rollout.status.currentStepIndex 1}}/{{len .rollout.spec.strategy.canary.steps}} has been completed.',
    color: '#18be52',
  },
  RolloutUpdated: { template: 'rollout-updated', message: 'Rollout {{.rollout.metadata.name}} has been updated.', color: '#18be52' },
  RolloutPaused: { template: 'rollout-paused', message: 'Rollout {{.rollout.metadata.name}} has been paused.', color: '#32cd32' },
  RolloutAborted: { template: 'rollout-aborted', message: 'Rollout {{.rollout.metadata.name}} has been aborted.', color: '#E96D76' },
  ScalingReplicaSet: {
    template: 'scaling-replicaset',
    message: "Scaling Rollout {{.rollout.metadata.name}}'s replicaset to {{.rollout.spec.replicas}}.",
    color: '#18be52',
  },
  AnalysisRunRunning: { template: 'analysis-run-running', message: "Rollout {{.rollout.metadata.name}}'s analysis run is running.", color: '#18be52' },
  AnalysisRunFailed: { template: 'analysis-run-failed', message: "Rollout {{.rollout.metadata.name}}'s analysis run failed.", color: '#E01E5A' },
  AnalysisRunError: { template: 'analysis-run-error', message: "Rollout {{.rollout.metadata.name}}'s analysis run is in error state.", color: '#ECB22E' },
};

export const ROLLOUT_EVENT_REASONS = Object.keys(EVENTS);

function template(message: string, color: string): NotificationTemplate {
  const strategy = '{{if .rollout.spec.strategy.blueGreen}}BlueGreen{{end}}{{if .rollout.spec.strategy.canary}}Canary{{end}}';
  return {
    message,
    email: { subject: message },
    slack: {
      attachments:
        `[{"title": "{{ .rollout.metadata.name}}", "color": "${color}", "fields": [{"title": "Strategy", "value": "${strategy}", "short": true}` +
        '{{range $c := .rollout.spec.template.spec.containers}}, {"title": "{{$c.name}}", "value": "{{$c.image}}", "short": true}{{end}}]}]',
    },
  };
}

export const ROLLOUTS_CATALOG: NotificationCatalog = {
  eventTriggers: true,
  triggers: Object.fromEntries(
    Object.entries(EVENTS).map(([reason, e]) => [triggerForReason(reason), [{ when: '', send: [e.template] }] satisfies TriggerCondition[]]),
  ),
  templates: Object.fromEntries(Object.values(EVENTS).map((e) => [e.template, template(e.message, e.color)])),
};
