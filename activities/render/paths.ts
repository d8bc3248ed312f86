// Where a source may read: inside the commit's tree, after following symlinks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkSourcePath } from '../../domain/applications/source-safety';
import { RenderError } from './errors';

/** The real path of `rel` inside `root`; refused when it (or a symlink on the way) leaves the root. */
export function insideRepo(root: string, rel: string, field = 'spec.source.path'): string {
  const clean = checkSourcePath(rel, field);
  const realRoot = fs.realpathSync(root);
  const joined = path.join(realRoot, clean);
  if (!fs.existsSync(joined)) throw new RenderError(`${field} ${JSON.stringify(rel)}: no such file or directory in the repository`);
  const real = fs.realpathSync(joined);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep))
    throw new RenderError(`${field} ${JSON.stringify(rel)} leads outside the repository (through a symlink); refused`);
  return real;
}

export function isInside(root: string, p: string): boolean {
  const realRoot = fs.realpathSync(root);
  const real = fs.realpathSync(p);
  return real === realRoot || real.startsWith(realRoot + path.sep);
}
