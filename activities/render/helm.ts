// A Helm chart rendered with `helm template` (no cluster access, no repository downloads:
// charts from Helm repositories and dependencies are fetched by helm-repositories.ts). Value files are relative to the chart and must stay inside the
// repository; inline values and valuesObject go through a private temporary file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { rendererBinary } from './tool';
import type { HelmOptions } from '../../domain/applications/types';
import type { ManifestResource } from '../../domain/sync/resources';
import { RenderError } from './errors';
import { parseManifests } from './manifests';
import { insideRepo } from './paths';
import { runTool } from './tool';
import { renderedOutputs } from './rendered-output';

/** Whether a relative path names something in the tree (".." and absolute paths are checked by insideRepo). */
function exists(root: string, rel: string): boolean {
  return !rel.startsWith('..') && !path.isAbsolute(rel) && fs.existsSync(path.join(root, rel));
}

export function isHelmChart(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'Chart.yaml'));
}

/** A value file written `$<ref>/<path>` (multiple sources): its real path in the ref'd source, or undefined for a plain file. */
export type ValueFileResolver = (file: string) => string | undefined;

export async function renderHelm(
  repoRoot: string,
  relPath: string,
  opts: HelmOptions | undefined,
  appName: string,
  namespace: string,
  fromRef?: ValueFileResolver,
  hard = false,
  /** The chart to render when not the tree's own (a copy with its dependencies built); files still resolve in the tree. */
  chartDirOverride?: string,
): Promise<ManifestResource[]> {
  const helm = rendererBinary('helm');
  const chartDir = chartDirOverride ?? path.join(repoRoot, relPath);
  const release = opts?.releaseName || appName;
  const args = ['template', release, chartDir, opts?.skipCrds ? '--skip-crds' : '--include-crds'];
  const releaseNamespace = opts?.namespace || namespace;
  if (releaseNamespace) args.push('--namespace', releaseNamespace);
  if (opts?.skipTests) args.push('--skip-tests');
  if (opts?.skipSchemaValidation) args.push('--skip-schema-validation');
  if (opts?.kubeVersion) args.push('--kube-version', opts.kubeVersion);
  for (const v of opts?.apiVersions ?? []) args.push('--api-versions', v);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-'));
  try {
    for (const file of opts?.valueFiles ?? []) {
      let referenced: string | undefined;
      try {
        referenced = fromRef?.(file);
      } catch (err) {
        if (opts?.ignoreMissingValueFiles && err instanceof RenderError && /no such file/.test(err.message)) continue;
        throw err;
      }
      if (referenced) {
        args.push('--values', referenced);
        continue;
      }
      // Relative to the chart, as in Argo CD; the result must stay inside the repository.
      const rel = path.posix.normalize(path.posix.join(relPath, file));
      if (opts?.ignoreMissingValueFiles && !exists(repoRoot, rel)) continue;
      args.push('--values', insideRepo(repoRoot, rel, `spec.source.helm.valueFiles ${JSON.stringify(file)}`));
    }
    for (const p of opts?.fileParameters ?? []) {
      const rel = path.posix.normalize(path.posix.join(relPath, p.path));
      args.push('--set-file', `${p.name}=${insideRepo(repoRoot, rel, `spec.source.helm.fileParameters ${JSON.stringify(p.name)}`)}`);
    }
    if (opts?.values) {
      fs.writeFileSync(path.join(tmp, 'values.yaml'), opts.values, { mode: 0o600 });
      args.push('--values', path.join(tmp, 'values.yaml'));
    }
    if (opts?.valuesObject) {
      fs.writeFileSync(path.join(tmp, 'values-object.yaml'), stringify(opts.valuesObject), { mode: 0o600 });
      args.push('--values', path.join(tmp, 'values-object.yaml'));
    }
    for (const p of opts?.parameters ?? []) args.push(p.forceString ? '--set-string' : '--set', `${p.name}=${p.value}`);
    const shown = relPath || '.';
    // The temporary files hold opts.values and valuesObject, which the key names instead.
    // Set files are named by path in a tree that never changes; their content is part of the key anyway.
    const inputs = {
      helm: args.filter((a) => !a.startsWith(tmp)),
      values: opts?.values,
      valuesObject: opts?.valuesObject,
    };
    const out = await renderedOutputs.get(inputs, () => runTool(helm, args, tmp, `helm template ${shown}`), hard);
    return parseManifests(out, `helm template ${shown}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
