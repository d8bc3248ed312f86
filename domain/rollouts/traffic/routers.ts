// The traffic routers Sluice runs, by their key under spec.strategy.canary.trafficRouting.
import type { CanaryStrategy } from '../types';
import { nginxRouter } from './nginx';
import type { TrafficRouter } from './router';

const ROUTERS: Record<string, TrafficRouter<never>> = {
  [nginxRouter.name]: nginxRouter,
};

export const supportedRouters = () => Object.keys(ROUTERS);

export function trafficRouter(name: string): TrafficRouter<unknown> | undefined {
  return Object.hasOwn(ROUTERS, name) ? (ROUTERS[name] as TrafficRouter<unknown>) : undefined;
}

/** The routers a canary configures, each with its configuration. */
export function configuredRouters(canary: CanaryStrategy | undefined): { router: TrafficRouter<unknown>; config: unknown }[] {
  return Object.entries(canary?.trafficRouting ?? {}).flatMap(([name, config]) => {
    const router = trafficRouter(name);
    return router && config ? [{ router, config }] : [];
  });
}
