// The services by type; a ConfigMap naming another type gets a clear error, not a silent drop.
import { email } from './email';
import { github } from './github';
import { opsgenie } from './opsgenie';
import { pagerdutyv2 } from './pagerdutyv2';
import type { NotificationService } from './service';
import { slack } from './slack';
import { teams } from './teams';
import { teamsWorkflows } from './teams-workflows';
import { webhook } from './webhook';

export const SERVICES: Record<string, NotificationService> = {
  email,
  github,
  opsgenie,
  pagerdutyv2,
  slack,
  teams,
  'teams-workflows': teamsWorkflows,
  webhook,
};
