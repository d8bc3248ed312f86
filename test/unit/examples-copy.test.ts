// The repository carries a copy of the team's shared examples so that a clone
// anywhere can run the suite. Where ../shared/examples exists, the copy must match it
// file for file, so the copy cannot drift from the manifests users actually write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { examplesDir, sharedExamplesDir } from '../support/paths';

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else out.set(child, fs.readFileSync(path.join(dir, child), 'utf8'));
    }
  };
  walk('');
  return out;
}

test('the examples copy holds what the tests read, and matches ../shared/examples where that exists', (t) => {
  const copy = files(examplesDir);
  for (const f of ['rollouts/canary-basic.yaml', 'rollouts/bluegreen-demo.yaml', 'projects/argocd-rbac-cm.team-roles.yaml', 'sync-waves-demo/']) {
    assert.ok(
      [...copy.keys()].some((k) => k.startsWith(f)),
      `${f} missing from ${examplesDir}`,
    );
  }
  if (!fs.existsSync(sharedExamplesDir)) {
    t.diagnostic(`no ${sharedExamplesDir} beside this clone; the copy is all there is`);
    return;
  }
  const shared = files(sharedExamplesDir);
  assert.deepEqual([...copy.keys()].sort(), [...shared.keys()].sort());
  for (const [name, text] of shared) assert.equal(copy.get(name), text, `examples/${name} differs from ../shared/examples/${name}`);
});
