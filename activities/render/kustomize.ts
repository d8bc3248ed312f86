// A kustomization rendered by the kustomize binary. The Application's kustomize options
// are applied as Argo CD applies them: `kustomize edit` on the kustomization, here in a
// private copy of the commit's tree (the shared tree stays untouched).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rendererBinary } from './tool';
import type { KustomizeOptions } from '../../domain/applications/types';
import type { ManifestResource } from '../../domain/sync/resources';
import { RenderError } from './errors';
import { parseManifests } from './manifests';
import { runTool } from './tool';
import { renderedOutputs } from './rendered-output';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export function isKustomization(dir: string): boolean {
  return KUSTOMIZATION_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

function hasOptions(o: KustomizeOptions | undefined): o is KustomizeOptions {
  return (
    !!o &&
    !!(
      o.images?.length ||
      o.namePrefix ||
      o.nameSuffix ||
      Object.keys(o.commonLabels ?? {}).length ||
      Object.keys(o.commonAnnotations ?? {}).length ||
      o.replicas?.length
    )
  );
}

/** The `kustomize edit` invocations for the options, each an argument array. */
export function kustomizeEdits(o: KustomizeOptions): string[][] {
  const edits: string[][] = [];
  if (o.namePrefix) edits.push(['edit', 'set', 'nameprefix', '--', o.namePrefix]);
  if (o.nameSuffix) edits.push(['edit', 'set', 'namesuffix', '--', o.nameSuffix]);
  if (o.images?.length) edits.push(['edit', 'set', 'image', '--', ...o.images]);
  const pairs = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([k, v]) => `${k}:${v}`)
      .join(',');
  if (Object.keys(o.commonLabels ?? {}).length) edits.push(['edit', 'add', 'label', '--force', '--', pairs(o.commonLabels!)]);
  if (Object.keys(o.commonAnnotations ?? {}).length) edits.push(['edit', 'add', 'annotation', '--force', '--', pairs(o.commonAnnotations!)]);
  if (o.replicas?.length) edits.push(['edit', 'set', 'replicas', '--', ...o.replicas.map((r) => `${r.name}=${r.count}`)]);
  return edits;
}

export async function renderKustomize(repoRoot: string, relPath: string, options: KustomizeOptions | undefined, hard = false): Promise<ManifestResource[]> {
  const kustomize = rendererBinary('kustomize');
  const shown = relPath || '.';
  const out = await renderedOutputs.get(
    { kustomize: path.join(repoRoot, relPath), options: options ?? null },
    () => build(kustomize, repoRoot, relPath, options, shown),
    hard,
  );
  return parseManifests(out, `kustomize build ${shown}`);
}

async function build(kustomize: string, repoRoot: string, relPath: string, options: KustomizeOptions | undefined, shown: string): Promise<string> {
  if (!hasOptions(options)) return runTool(kustomize, ['build', path.join(repoRoot, relPath)], repoRoot, `kustomize build ${shown}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kustomize-'));
  try {
    fs.cpSync(repoRoot, tmp, { recursive: true, verbatimSymlinks: true });
    const dir = path.join(tmp, relPath);
    for (const edit of kustomizeEdits(options)) await runTool(kustomize, edit, dir, `kustomize ${edit.slice(0, 3).join(' ')} in ${shown}`);
    return await runTool(kustomize, ['build', dir], dir, `kustomize build ${shown}`);
  } catch (err) {
    if (err instanceof RenderError) throw err;
    throw new RenderError(`kustomize ${shown}: ${(err as Error).message}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
