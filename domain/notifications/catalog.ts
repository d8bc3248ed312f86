// The triggers and templates Argo CD ships (notifications_catalog/install.yaml), usable
// without writing them; a ConfigMap key of the same name replaces one.

import type { NotificationTemplate, TriggerCondition } from './config';

const OP = 'app.status.operationState != nil and app.status.operationState.phase in';

export const BUILTIN_TRIGGERS: Record<string, TriggerCondition[]> = {
  'on-created': [{ description: 'Application is created.', oncePer: 'app.metadata.name', send: ['app-created'], when: 'true' }],
  'on-deleted': [
    { description: 'Application is deleted.', oncePer: 'app.metadata.name', send: ['app-deleted'], when: 'app.metadata.deletionTimestamp != nil' },
  ],
  'on-deployed': [
    {
      description: 'Application is synced and healthy. Triggered once per commit.',
      oncePer: 'app.status.operationState?.syncResult?.revision',
      send: ['app-deployed'],
      when: `${OP} ['Succeeded'] and app.status.health.status == 'Healthy'`,
    },
  ],
  'on-health-degraded': [{ description: 'Application has degraded', send: ['app-health-degraded'], when: "app.status.health.status == 'Degraded'" }],
  'on-sync-failed': [{ description: 'Application syncing has failed', send: ['app-sync-failed'], when: `${OP} ['Error', 'Failed']` }],
  'on-sync-running': [{ description: 'Application is being synced', send: ['app-sync-running'], when: `${OP} ['Running']` }],
  'on-sync-status-unknown': [
    { description: "Application status is 'Unknown'", send: ['app-sync-status-unknown'], when: "app.status.sync.status == 'Unknown'" },
  ],
  'on-sync-succeeded': [{ description: 'Application syncing has succeeded', send: ['app-sync-succeeded'], when: `${OP} ['Succeeded']` }],
};

const link = '{{.context.argocdUrl}}/applications/{{.app.metadata.name}}';

function template(message: string, color: string): NotificationTemplate {
  return {
    message,
    email: { subject: message.split('\n')[0] },
    slack: {
      attachments: JSON.stringify([
        {
          title: '{{ .app.metadata.name}}',
          title_link: link,
          color,
          fields: [
            { title: 'Sync Status', value: '{{.app.status.sync.status}}', short: true },
            { title: 'Repository', value: '{{.app.spec.source.repoURL}}', short: true },
          ],
        },
      ]),
    },
  };
}

export const BUILTIN_TEMPLATES: Record<string, NotificationTemplate> = {
  'app-created': template('Application {{.app.metadata.name}} has been created.', '#18be52'),
  'app-deleted': template('Application {{.app.metadata.name}} has been deleted.', '#f4c030'),
  'app-deployed': template(
    '{{if eq .serviceType "slack"}}:white_check_mark:{{end}} Application {{.app.metadata.name}} is now running new version of deployments manifests.',
    '#18be52',
  ),
  'app-health-degraded': template('{{if eq .serviceType "slack"}}:exclamation:{{end}} Application {{.app.metadata.name}} has degraded.', '#f4c030'),
  'app-sync-failed': template(
    '{{if eq .serviceType "slack"}}:exclamation:{{end}}  The sync operation of application {{.app.metadata.name}} has failed at ' +
      '{{.app.status.operationState.finishedAt}} with the following error: {{.app.status.operationState.message}}',
    '#E96D76',
  ),
  'app-sync-running': template('The sync operation of application {{.app.metadata.name}} has started at {{.app.status.operationState.startedAt}}.', '#0DADEA'),
  'app-sync-status-unknown': template('{{if eq .serviceType "slack"}}:exclamation:{{end}} Application {{.app.metadata.name}} sync is \'Unknown\'.', '#E96D76'),
  'app-sync-succeeded': template(
    '{{if eq .serviceType "slack"}}:white_check_mark:{{end}} Application {{.app.metadata.name}} has been successfully synced at ' +
      '{{.app.status.operationState.finishedAt}}.',
    '#18be52',
  ),
};
