// The version Sluice reports is the one package.json releases.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SLUICE_VERSION } from '../../domain/version';
import { repoRoot } from '../support/paths';

test('SLUICE_VERSION equals package.json version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(SLUICE_VERSION, pkg.version);
});
