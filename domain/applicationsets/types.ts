// The ApplicationSet as Sluice reads it (argoproj.io/v1alpha1), and what generators read.
import type { KubeObject } from '../objects';
import type { LabelSelector } from './selector';
import type { Params } from './params';

/** metadata + spec of an Application, with `{{…}}` placeholders. */
export interface ApplicationTemplate {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: Record<string, any>;
}

/** One entry of spec.generators (or of a matrix/merge's generators): one or more kinds, a selector. */
export type GeneratorSpec = Record<string, any> & { selector?: LabelSelector };

export interface IgnoreApplicationDifference {
  name?: string;
  jsonPointers?: string[];
  jqPathExpressions?: string[];
}

export type ApplicationsSyncPolicy = 'create-only' | 'create-update' | 'create-delete' | 'sync';

export interface ApplicationSetSpec {
  generators?: GeneratorSpec[];
  template?: ApplicationTemplate;
  templatePatch?: string;
  goTemplate?: boolean;
  goTemplateOptions?: string[];
  syncPolicy?: { preserveResourcesOnDeletion?: boolean; applicationsSync?: ApplicationsSyncPolicy };
  preservedFields?: { annotations?: string[]; labels?: string[] };
  ignoreApplicationDifferences?: IgnoreApplicationDifference[];
  strategy?: { type?: string; rollingSync?: { steps?: { matchExpressions?: any[]; maxUpdate?: number | string }[] } };
}

export interface ApplicationSet extends KubeObject {
  spec: ApplicationSetSpec;
}

/** A cluster Secret (argocd.argoproj.io/secret-type: cluster) as the clusters generator reads it. */
export interface ClusterSecret {
  /** data.name, data.server, data.project, decoded. */
  name: string;
  server: string;
  project?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A repository at one revision: its directories (hidden ones left out) and files, paths relative to the root. */
export interface GitSnapshot {
  directories: readonly string[];
  files: readonly string[];
  read(path: string): Promise<string>;
}

/** Renders one string with a parameter set: Argo's fasttemplate, or Go text/template when goTemplate. */
export interface TemplateEngine {
  readonly goTemplate: boolean;
  readonly goTemplateOptions: readonly string[];
  replace(template: string, params: Params, options?: { missingKeyError?: boolean }): Promise<string>;
}

/** What generators read from the world; every read may throw, and a throw fails the whole pass. */
export interface GeneratorSources {
  git(repoURL: string, revision: string): Promise<GitSnapshot>;
  clusterSecrets(): Promise<ClusterSecret[]>;
  /** Whether an AppProject exists (the git generator needs the template's project). */
  projectExists(name: string): Promise<boolean>;
  /** A ConfigMap's data in the control-plane namespace; undefined when there is none. */
  configMap(name: string): Promise<Record<string, string> | undefined>;
  /** Objects of any resource (by plural) in the control-plane namespace, by name or label selector (clusterDecisionResource). */
  /** A key of a Secret in the control-plane namespace; undefined when either is missing. */
  secretValue(name: string, key: string): Promise<string | undefined>;
  /** POSTs JSON to an HTTP plugin service and returns the decoded answer; throws on a transport or HTTP error. */
  callPlugin(request: { url: string; token: string; timeoutSeconds?: number; body: unknown }): Promise<unknown>;
  /** GET of a JSON API (SCM providers); the caller reads status and the pagination headers. */
  httpGetJSON(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown; headers: Record<string, string> }>;
  listResources(ref: { group: string; version: string; plural: string; name?: string; labelSelector?: string }): Promise<Record<string, any>[]>;
}

export interface GeneratorContext {
  appSet: ApplicationSet;
  engine: TemplateEngine;
  sources: GeneratorSources;
}

export const IN_CLUSTER_NAME = 'in-cluster';
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';
export { RESOURCES_FINALIZER } from '../argo/names';
/** Argo's default requeue for generators that poll (git, clusterDecisionResource, …). */
export const DEFAULT_REQUEUE_AFTER_SECONDS = 180;
