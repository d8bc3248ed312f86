// A Helm chart from the repository rendered with `helm template` (no cluster access, no
// repository downloads). Value files are relative to the chart and must stay inside the
// repository; inline values and valuesObject go through a private temporary file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { rendererBinary } from './tool';
import type { HelmOptions } from '../../domain/applications/types';
import type { ManifestResource } from '../../domain/sync/resources';
import { parseManifests } from './manifests';
import { insideRepo } from './paths';
import { runTool } from './tool';
import { renderedOutputs } from './rendered-output';

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
): Promise<ManifestResource[]> {
  const helm = rendererBinary('helm');
  const chartDir = path.join(repoRoot, relPath);
  const release = opts?.releaseName || appName;
  const args = ['template', release, chartDir, '--include-crds'];
  if (namespace) args.push('--namespace', namespace);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-'));
  try {
    for (const file of opts?.valueFiles ?? []) {
      const referenced = fromRef?.(file);
      if (referenced) {
        args.push('--values', referenced);
        continue;
      }
      // Relative to the chart, as in Argo CD; the result must stay inside the repository.
      const rel = path.posix.normalize(path.posix.join(relPath, file));
      args.push('--values', insideRepo(repoRoot, rel, `spec.source.helm.valueFiles ${JSON.stringify(file)}`));
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
    const inputs = { helm: args.filter((a) => !a.startsWith(tmp)), values: opts?.values, valuesObject: opts?.valuesObject };
    const out = await renderedOutputs.get(inputs, () => runTool(helm, args, tmp, `helm template ${shown}`), hard);
    return parseManifests(out, `helm template ${shown}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
