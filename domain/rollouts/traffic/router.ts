// One interface for every traffic router, as Argo Rollouts' TrafficRoutingReconciler:
// for a canary weight, the objects the router needs in the cluster (SetWeight), read from
// the objects it builds on, and a check that what the cluster holds carries the weight
// (VerifyWeight). Pure: the setTrafficWeight activity reads, applies and verifies. Adding a
// router is adding a file next to this one and a line in ./routers.ts.
import type { SpecProblem } from '../spec-validation';
import type { CanaryStrategy } from '../types';

/** A Kubernetes object as a router reads or writes it. */
export interface RoutedObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: unknown[] };
  spec?: unknown;
}

/** An object the router builds on, which the activity reads before asking for desired objects. */
export interface RouterRead {
  kind: 'Ingress';
  name: string;
  /** The spec field that names it, for an error a user can act on. */
  field: string;
}

export interface RouterContext<Config> {
  rollout: { namespace: string; name: string; uid: string };
  canary: CanaryStrategy;
  /** spec.strategy.canary.trafficRouting.<router name> */
  config: Config;
}

/** A configuration or cluster state the router cannot work with; no retry fixes it. */
export class RouterError extends Error {
  constructor(
    message: string,
    readonly reason: 'NotFound' | 'InvalidConfig',
  ) {
    super(message);
  }
}

export interface TrafficRouter<Config = unknown> {
  /** The key under spec.strategy.canary.trafficRouting. */
  readonly name: string;
  /** Problems with the router's configuration, each naming its field. */
  validate(config: Config, field: string): SpecProblem[];
  /** The objects to read before desiredObjects. */
  reads(config: Config): RouterRead[];
  /** The objects that send `weight` percent to the canary (server-side applied); throws RouterError. */
  desiredObjects(ctx: RouterContext<Config>, weight: number, read: (r: RouterRead) => RoutedObject | undefined): RoutedObject[];
  /** Whether objects as the cluster holds them carry `weight`. */
  verifyWeight(ctx: RouterContext<Config>, weight: number, live: RoutedObject[]): boolean;
}
