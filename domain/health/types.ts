// Health as Argo CD reports it, and careful readers for the loosely typed objects the
// cluster returns. Pure, so workflows can assess health of what activities observed.

export type HealthStatusCode = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface HealthStatus {
  status: HealthStatusCode;
  message?: string;
}

/** Any Kubernetes object as read from the API: only apiVersion, kind and metadata are assumed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** A field holds the wrong type; Argo CD fails its typed conversion and reports Unknown. */
export class FieldTypeError extends Error {}

export function health(status: HealthStatusCode, message?: string): HealthStatus {
  // Argo CD omits an empty message, so do we.
  return message ? { status, message } : { status };
}

export function fieldAt(obj: unknown, path: readonly string[]): unknown {
  let at: unknown = obj;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at === null ? undefined : at;
}

/** An integer field, undefined when absent; a field of another type is a FieldTypeError. */
export function intAt(obj: unknown, ...path: string[]): number | undefined {
  const value = fieldAt(obj, path);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new FieldTypeError(`${path.join('.')} is not an integer: ${JSON.stringify(value)}`);
  return value;
}

export function stringAt(obj: unknown, ...path: string[]): string | undefined {
  const value = fieldAt(obj, path);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new FieldTypeError(`${path.join('.')} is not a string: ${JSON.stringify(value)}`);
  return value;
}

export function boolAt(obj: unknown, ...path: string[]): boolean | undefined {
  const value = fieldAt(obj, path);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new FieldTypeError(`${path.join('.')} is not a boolean: ${JSON.stringify(value)}`);
  return value;
}

export function listAt(obj: unknown, ...path: string[]): unknown[] {
  const value = fieldAt(obj, path);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new FieldTypeError(`${path.join('.')} is not a list`);
  return value;
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** The status conditions, with absent texts as "" like Go's zero values. */
export function conditionsAt(obj: unknown, ...path: string[]): Condition[] {
  return listAt(obj, ...path).map((c, i) => {
    const field = (name: string) => stringAt(c, name) ?? '';
    if (typeof c !== 'object' || c === null) throw new FieldTypeError(`${path.join('.')}[${i}] is not an object`);
    return { type: field('type'), status: field('status'), reason: field('reason'), message: field('message') };
  });
}

export function groupVersion(obj: KubeObject): { group: string; version: string } {
  const apiVersion = obj.apiVersion ?? '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * Argo CD's built-in checks read one API version (or a few); another version of a known kind
 * is Unknown rather than guessed at.
 */
export function unsupportedVersion(obj: KubeObject, versions: readonly string[], label = obj.kind ?? ''): HealthStatus | undefined {
  const { group, version } = groupVersion(obj);
  if (versions.includes(version)) return undefined;
  return health('Unknown', `unsupported ${label} GVK: ${group}/${version}, Kind=${obj.kind ?? ''}`);
}

/** Go's %q for the names in Argo CD's messages. */
export function quoted(text: string | undefined): string {
  return JSON.stringify(text ?? '');
}
