#!/usr/bin/env node
// Runs before `npm start` and `npm test` on any machine, fresh or not: installs the
// npm dependencies when they are missing or stale, compiles the TypeScript and
// bundles the workflow code and the dashboard. Plain JavaScript, because it runs before TypeScript is there.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
process.chdir(root);

function step(what, cmd, args) {
  const started = Date.now();
  const res = spawnSync(cmd, args, { stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`[prepare] ${what} failed`);
    process.exit(res.status ?? 1);
  }
  const secs = (Date.now() - started) / 1000;
  if (secs > 3) console.log(`[prepare] ${what}: ${secs.toFixed(1)}s`);
}

// `npm ci` installs exactly what the committed lock names, on a clean tree. A stamp of the
// lock's hash tells whether node_modules still matches it (mtimes change with every checkout).
const lock = fs.readFileSync('package-lock.json');
const lockHash = crypto.createHash('sha256').update(lock).digest('hex');
const stamp = path.join('node_modules', '.sluice-lock-sha256');
const stale = !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8').trim() !== lockHash;
// A symlinked node_modules is another checkout's install: npm ci would empty it under that checkout.
const shared = fs.lstatSync('node_modules', { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
if (stale && shared) console.log('[prepare] node_modules is a symlink to a shared install: not reinstalling it');
else if (stale) {
  step('npm ci', 'npm', ['ci', '--no-audit', '--no-fund']);
  fs.writeFileSync(stamp, `${lockHash}\n`);
}
step('compile TypeScript', process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
step('bundle workflows', process.execPath, [path.join('dist', 'worker', 'bundle.js')]);
step('bundle the dashboard', process.execPath, [path.join('scripts', 'bundle-ui.js')]);
