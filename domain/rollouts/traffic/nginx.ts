// The NGINX Ingress traffic router: a canary Ingress copied from the stable one, its
// backends pointed at the canary Service, weighted with NGINX's canary annotations.
// Pure: the activity reads the stable Ingress and applies what this returns.
import { RouterError, type TrafficRouter } from './router';

const DEFAULT_PREFIX = 'nginx.ingress.kubernetes.io';

export interface NginxRouting {
  stableIngress?: string;
  stableIngresses?: string[];
  annotationPrefix?: string;
  additionalIngressAnnotations?: Record<string, string>;
}

export interface IngressLike {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { ingressClassName?: string; rules?: IngressRule[]; tls?: unknown[] };
}

interface IngressRule {
  host?: string;
  http?: { paths: { path?: string; pathType?: string; backend: { service?: { name: string; port?: unknown } } }[] };
}

export const canaryIngressName = (rollout: string, stableIngress: string) => `${rollout}-${stableIngress}-canary`.slice(0, 253);

export function stableIngressNames(nginx: NginxRouting): string[] {
  return [...(nginx.stableIngress ? [nginx.stableIngress] : []), ...(nginx.stableIngresses ?? [])];
}

/** The canary Ingress for one stable Ingress: only the paths that reach the stable Service. */
export function nginxCanaryIngress(opts: {
  rollout: { name: string; uid: string };
  stable: IngressLike;
  stableService: string;
  canaryService: string;
  nginx: NginxRouting;
  weight: number;
}): IngressLike & { metadata: { ownerReferences: unknown[] } } {
  const prefix = opts.nginx.annotationPrefix ?? DEFAULT_PREFIX;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.nginx.additionalIngressAnnotations ?? {})) annotations[`${prefix}/${k}`] = v;
  annotations[`${prefix}/canary`] = 'true';
  annotations[`${prefix}/canary-weight`] = String(opts.weight);
  const rules = (opts.stable.spec?.rules ?? [])
    .map((rule) => ({
      ...rule,
      http: rule.http && {
        paths: rule.http.paths
          .filter((p) => p.backend.service?.name === opts.stableService)
          .map((p) => ({ ...p, backend: { service: { ...p.backend.service!, name: opts.canaryService } } })),
      },
    }))
    .filter((rule) => (rule.http?.paths.length ?? 0) > 0);
  if (rules.length === 0) throw new Error(`ingress "${opts.stable.metadata.name}" has no path to the stable Service "${opts.stableService}"`);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: canaryIngressName(opts.rollout.name, opts.stable.metadata.name),
      namespace: opts.stable.metadata.namespace,
      annotations,
      labels: { 'rollouts-managed-by': opts.rollout.name },
      ownerReferences: [
        { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: opts.rollout.name, uid: opts.rollout.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: { ...(opts.stable.spec?.ingressClassName ? { ingressClassName: opts.stable.spec.ingressClassName } : {}), rules },
  };
}

export const nginxRouter: TrafficRouter<NginxRouting> = {
  name: 'nginx',
  validate(nginx, field) {
    return stableIngressNames(nginx ?? {}).length === 0 ? [{ field: `${field}.stableIngress`, message: 'stableIngress is required' }] : [];
  },
  reads(nginx) {
    return stableIngressNames(nginx).map((name) => ({ kind: 'Ingress' as const, name, field: 'spec.strategy.canary.trafficRouting.nginx.stableIngress' }));
  },
  desiredObjects({ rollout, canary, config }, weight, read) {
    return nginxRouter.reads(config).map((r) => {
      const stable = read(r) as IngressLike | undefined;
      if (!stable) throw new RouterError(`stable Ingress "${r.name}" not found (${r.field})`, 'NotFound');
      try {
        return nginxCanaryIngress({ rollout, stable, stableService: canary.stableService!, canaryService: canary.canaryService!, nginx: config, weight });
      } catch (err) {
        throw new RouterError((err as Error).message, 'InvalidConfig');
      }
    });
  },
  verifyWeight({ config }, weight, live) {
    const key = `${config.annotationPrefix ?? DEFAULT_PREFIX}/canary-weight`;
    return live.length === stableIngressNames(config).length && live.every((ing) => ing.metadata.annotations?.[key] === String(weight));
  },
};
