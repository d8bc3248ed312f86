// Which RBAC check guards a Rollout. Argo CD guards a Rollout an Application deployed
// as a resource of that Application: reading it is `applications, get` and acting on
// it is a resource action, `applications, action/argoproj.io/Rollout/<command>`, on
// `<project>/<app>`. (The Argo Rollouts dashboard itself has no authorisation.)
// A Rollout no Application owns falls under Sluice's own resource `rollouts`, with
// actions get and update on `<namespace>/<name>`.
import type { KubeObject } from '../k8s/kube-client';
import { appRBACName } from '../domain/rbac/policy';
import { DEFAULT_PROJECT, INSTANCE_LABEL, TRACKING_ID_ANNOTATION } from '../domain/argo/names';

export interface RbacCheck {
  resource: string;
  action: string;
  object: string;
}

export interface AppRef {
  /** Undefined when the tracking value names the app without its namespace. */
  namespace?: string;
  name: string;
}

/**
 * The Application that deployed an object, from Argo CD's tracking annotation
 * (`<app>:<group>/<kind>:<ns>/<name>`) or, failing that, its instance label. Apps
 * outside the control-plane namespace are written `<namespace>_<app>`.
 */
export function owningApp(obj: KubeObject): AppRef | undefined {
  const tracking = obj.metadata.annotations?.[TRACKING_ID_ANNOTATION];
  const raw = tracking ? tracking.split(':')[0] : obj.metadata.labels?.[INSTANCE_LABEL];
  if (!raw) return undefined;
  const sep = raw.indexOf('_');
  return sep > 0 ? { namespace: raw.slice(0, sep), name: raw.slice(sep + 1) } : { name: raw };
}

export type AppLookup = (ref: AppRef) => KubeObject | undefined;

/** `command` undefined means a read. Command names: promote, promote-full, abort, retry, undo, restart, pause, resume, set-image. */
export function rolloutCheck(rollout: KubeObject, command: string | undefined, findApp: AppLookup, controlNamespace: string): RbacCheck {
  const ref = owningApp(rollout);
  const app = ref && findApp(ref);
  if (app) {
    const object = appRBACName(app.spec?.project || DEFAULT_PROJECT, app.metadata.name, app.metadata.namespace, controlNamespace);
    return command
      ? { resource: 'applications', action: `action/argoproj.io/Rollout/${command}`, object }
      : { resource: 'applications', action: 'get', object };
  }
  return { resource: 'rollouts', action: command ? 'update' : 'get', object: `${rollout.metadata.namespace}/${rollout.metadata.name}` };
}

/** AnalysisRuns follow the Rollout that owns them; a standalone run is `analysisruns, get`. */
export function analysisRunCheck(
  run: KubeObject,
  findRollout: (namespace: string, name: string) => KubeObject | undefined,
  findApp: AppLookup,
  controlNamespace: string,
): RbacCheck {
  const owner = run.metadata.ownerReferences?.find((o) => o.kind === 'Rollout');
  const rollout = owner && findRollout(run.metadata.namespace!, owner.name);
  if (rollout) return rolloutCheck(rollout, undefined, findApp, controlNamespace);
  return { resource: 'analysisruns', action: 'get', object: `${run.metadata.namespace}/${run.metadata.name}` };
}
