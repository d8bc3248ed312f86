// Argo CD's parameter override files: `.argocd-source.yaml`, then `.argocd-source-<app>.yaml`,
// in the source's path, each a JSON merge patch onto the Application's source (so a
// `helm.parameters` list there replaces the Application's list, as Argo CD #6665 describes).
// This is how a git write-back reaches the render.

import { parse } from 'yaml';
import { applyMergePatch } from '../applicationsets/merge-patch';

export const overrideFileNames = (appName: string): string[] => ['.argocd-source.yaml', `.argocd-source-${appName}.yaml`];

/**
 * Argo CD decodes these files into Go structs, whose JSON field matching ignores case:
 * Image Updater writes `forcestring: true` (yaml.v2 lower-cases), which means `forceString`.
 */
function goFieldNames(patch: Record<string, any>): Record<string, any> {
  const params = patch.helm?.parameters;
  if (!Array.isArray(params)) return patch;
  const fixed = params.map((p: unknown) =>
    p && typeof p === 'object'
      ? Object.fromEntries(Object.entries(p).map(([k, v]) => [k.toLowerCase() === 'forcestring' ? 'forceString' : k.toLowerCase(), v]))
      : p,
  );
  return { ...patch, helm: { ...patch.helm, parameters: fixed } };
}

/** The source with the override files' contents merged in; a file that is not a YAML mapping is ignored, as Argo CD logs and goes on. */
export function withSourceOverrides<T extends object>(source: T, files: readonly (string | undefined)[]): T {
  let out: unknown = source;
  for (const text of files) {
    if (text === undefined) continue;
    let patch: unknown;
    try {
      patch = parse(text);
    } catch {
      continue;
    }
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) continue;
    out = applyMergePatch(out, goFieldNames(patch as Record<string, any>));
  }
  return out as T;
}
