// The version Sluice reports is the one package.json releases.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SLUICE_VERSION } from '../../domain/version';
import { cliPath, repoRoot } from '../support/paths';

test('SLUICE_VERSION equals package.json version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(SLUICE_VERSION, pkg.version);
});

test('`sluice version --client` prints the version without calling a server; without it an unreachable server is exit 3', () => {
  const client = spawnSync(process.execPath, [cliPath, 'version', '--client'], { encoding: 'utf8' });
  assert.equal(client.status, 0, client.stderr);
  assert.equal(client.stdout, `client: sluice ${SLUICE_VERSION}\n`);
  // Port 9 (discard) on loopback: nothing listens.
  const both = spawnSync(process.execPath, [cliPath, '--server', 'http://127.0.0.1:9', '--token', 'x', 'version'], { encoding: 'utf8' });
  assert.equal(both.stdout, `client: sluice ${SLUICE_VERSION}\n`);
  assert.equal(both.status, 3, both.stderr);
});
