// Every workflow the worker registers. Only deterministic code is reachable from here.
export { rolloutWorkflow } from './rollout';
