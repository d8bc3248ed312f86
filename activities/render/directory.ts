// A plain directory of YAML/JSON manifests (Argo CD's "directory" source): recurse when
// asked, include/exclude globs matched against the path relative to the source path,
// symlinks followed only while they stay inside the repository.
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { ManifestResource } from '../../domain/sync/resources';
import { RenderError } from './errors';
import { parseManifests } from './manifests';
import { isInside } from './paths';

export interface DirectoryOptions {
  recurse?: boolean;
  include?: string;
  exclude?: string;
}

const MANIFEST = /\.(ya?ml|json)$/;

function matcher(pattern: string | undefined): ((p: string) => boolean) | undefined {
  if (!pattern || pattern.trim() === '') return undefined;
  return picomatch(pattern.trim(), { dot: true });
}

/** `dir` is the real source directory, `repoRoot` the tree, `displayPrefix` the source path shown in errors. */
export function renderDirectory(repoRoot: string, dir: string, displayPrefix: string, options: DirectoryOptions = {}): ManifestResource[] {
  const include = matcher(options.include);
  const exclude = matcher(options.exclude);
  const out: ManifestResource[] = [];
  const walk = (at: string, rel: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink() && !isInside(repoRoot, full)) {
        throw new RenderError(`${displayPrefix ? `${displayPrefix}/` : ''}${relPath} is a symlink leading outside the repository; refused`);
      }
      const stat = fs.statSync(full);
      if (stat.isDirectory()) {
        if (options.recurse && !entry.name.startsWith('.')) walk(full, relPath);
        continue;
      }
      if (!MANIFEST.test(entry.name)) continue;
      if (include && !include(relPath)) continue;
      if (exclude && exclude(relPath)) continue;
      const shown = displayPrefix ? `${displayPrefix}/${relPath}` : relPath;
      out.push(...parseManifests(fs.readFileSync(full, 'utf8'), shown));
    }
  };
  walk(dir, '');
  return out;
}
