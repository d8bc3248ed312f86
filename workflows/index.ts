// Every workflow the worker registers. Only deterministic code is reachable from here.
export { rolloutWorkflow } from './rollout';
export { analysisRunWorkflow } from './analysis-run';
export { applicationWorkflow } from './application';
export { applicationSyncWorkflow } from './application-sync';
export { applicationSetWorkflow, applicationSetPreviewWorkflow } from './applicationset';
export { notificationsWorkflow } from './notifications';
export { rolloutNotificationsWorkflow } from './rollout-notifications';
export { imageUpdateWorkflow } from './image-update';
