// What the API's route modules share with the server that mounts them: the context
// (caches, access control, commands), the RBAC helpers and common request schemas.
import type { FastifyRequest } from 'fastify';
import type { KubeClient, KubeObject } from '../k8s/kube-client';
import type { AccessControl, Principal } from './auth/access-control';
import type { ApplicationCommands } from './application-commands';
import type { ApiError } from './errors';
import type { ObjectCache } from './object-cache';
import type { RolloutCommands } from './rollout-commands';
import type { AppRef, RbacCheck } from './rollout-access';
import { appRBACName } from '../domain/rbac/policy';
import { DEFAULT_PROJECT } from '../domain/argo/names';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The JSON body as received, for routes that verify a signature over it (Git webhooks). */
    rawBody?: string;
  }
}

export type ApiLog = (msg: string, fields?: Record<string, unknown>) => void;

/** What route modules share: the caches, access control and the RBAC helpers. */
export interface ApiContext {
  kube: KubeClient;
  commands: RolloutCommands;
  applicationCommands?: ApplicationCommands;
  access: AccessControl;
  rollouts: ObjectCache;
  applications: ObjectCache;
  analysisRuns: ObjectCache;
  applicationSets: ObjectCache;
  controlNamespace: string;
  findApp(ref: AppRef): KubeObject | undefined;
  /**
   * The Rollout, from the watch or else the apiserver. When absent: 404 only for a
   * caller who could have acted on it (`rollouts, get|update, <ns>/<name>`), else 403,
   * so RBAC does not reveal what exists (as Argo CD does for Applications).
   */
  rollout(req: FastifyRequest, namespace: string, name: string, command?: string): Promise<KubeObject>;
  /** The error for an Application that does not exist: 404, or 403 unless `<action>` on `*\/<name>` is allowed. */
  missingApplication(req: FastifyRequest, namespace: string, name: string, action: string): ApiError;
  /** Throws 403 naming the account, action and object unless RBAC allows it. */
  authorize(req: FastifyRequest, check: RbacCheck): void;
  rolloutCheck(ro: KubeObject, command: string | undefined): RbacCheck;
}

export const refParams = {
  type: 'object',
  required: ['namespace', 'name'],
  properties: { namespace: { type: 'string', minLength: 1, maxLength: 253 }, name: { type: 'string', minLength: 1, maxLength: 253 } },
} as const;

export function can(ctx: ApiContext, req: FastifyRequest, check: RbacCheck): boolean {
  return !!req.principal && ctx.access.can(req.principal, check.resource, check.action, check.object);
}

/** Argo CD's check for an ApplicationSet: resource `applicationsets`, object `<project>/<name>` with the template's project. */
export function appSetCheck(ctx: ApiContext, set: KubeObject, action: string): RbacCheck {
  return {
    resource: 'applicationsets',
    action,
    object: appRBACName(String(set.spec?.template?.spec?.project || DEFAULT_PROJECT), set.metadata.name, set.metadata.namespace, ctx.controlNamespace),
  };
}

export function appCheck(ctx: ApiContext, appObj: KubeObject, action: string): RbacCheck {
  return {
    resource: 'applications',
    action,
    object: appRBACName(appObj.spec?.project || DEFAULT_PROJECT, appObj.metadata.name, appObj.metadata.namespace, ctx.controlNamespace),
  };
}
