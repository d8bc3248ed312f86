// `npm ci` on a clean machine refuses a lock file that leaves out any optional dependency a
// locked package declares, even one for another platform. `npm install` drops such a package
// silently when the registry answers 404 for it, so a lock regenerated there breaks `npm ci`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths';

interface LockedPackage {
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };

test('the lock file lists every optional dependency of every locked package', () => {
  const paths = Object.keys(lock.packages);
  const missing: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      if (!paths.some((p) => p === `node_modules/${name}` || p.endsWith(`/node_modules/${name}`))) missing.push(`${where || '(root)'} → ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});
