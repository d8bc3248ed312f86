// The services by type; a ConfigMap naming another type gets a clear error, not a silent drop.
import type { NotificationService } from './service';
import { slack } from './slack';
import { webhook } from './webhook';

export const SERVICES: Record<string, NotificationService> = { slack, webhook };
