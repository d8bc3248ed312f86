// Turns an Application source at a commit into manifests: Helm when the path holds a
// chart (or helm options are set), Kustomize when it holds a kustomization, a plain
// directory otherwise — Argo CD's detection order.
import type { ApplicationSource } from '../../domain/applications/types';
import type { ManifestResource } from '../../domain/sync/resources';
import { renderDirectory } from './directory';
import { RenderError } from './errors';
import { isHelmChart, renderHelm, type ValueFileResolver } from './helm';
import { isKustomization, renderKustomize } from './kustomize';
import { insideRepo } from './paths';
import { renderedOutputs } from './rendered-output';
import * as fs from 'node:fs';

export { RenderError } from './errors';

export type SourceType = 'Helm' | 'Kustomize' | 'Directory';

/** Which renderer a source needs, by Argo CD's detection order. */
export function sourceTypeOf(dir: string, source: ApplicationSource): SourceType {
  if (source.helm || isHelmChart(dir)) return 'Helm';
  if (source.kustomize || isKustomization(dir)) return 'Kustomize';
  return 'Directory';
}

export async function renderSource(
  repoRoot: string,
  source: ApplicationSource,
  appName: string,
  namespace: string,
  opts: {
    field?: string;
    fromRef?: ValueFileResolver;
    hard?: boolean;
    /** A chart with dependencies to build: the directory to render instead (see HelmRepositories.withDependencies). */
    dependencies?: (chartDir: string, shown: string) => Promise<string | undefined>;
  } = {},
): Promise<{ type: SourceType; manifests: ManifestResource[] }> {
  const field = `${opts.field ?? 'spec.source'}.path`;
  const dir = insideRepo(repoRoot, source.path ?? '', field);
  const rel = (source.path ?? '').replace(/^\.?\/*/, '').replace(/\/+$/, '');
  if (!fs.statSync(dir).isDirectory()) throw new RenderError(`${field} ${JSON.stringify(source.path)} is not a directory`);
  const type = sourceTypeOf(dir, source);
  if (type === 'Helm') {
    const built = isHelmChart(dir) ? await opts.dependencies?.(dir, rel || '.') : undefined;
    return { type, manifests: await renderHelm(repoRoot, rel, source.helm, appName, namespace, opts.fromRef, opts.hard, built) };
  }
  if (type === 'Kustomize') return { type, manifests: await renderKustomize(repoRoot, rel, source.kustomize, opts.hard) };
  // Remembered as Helm and Kustomize output is (the tree is one commit's and never changes):
  // every pass of every app renders, and parsing YAML was a good part of a no-op pass.
  const options = source.directory ?? {};
  const json = await renderedOutputs.get(
    { directory: dir, repoRoot, rel, options },
    async () => JSON.stringify(renderDirectory(repoRoot, dir, rel, options)),
    opts.hard,
  );
  return { type, manifests: JSON.parse(json) as ManifestResource[] };
}
