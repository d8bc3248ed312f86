#!/usr/bin/env node
// Runs before `npm start` and `npm test` on any machine, fresh or not: installs the
// npm dependencies when they are missing or stale, compiles the TypeScript and
// bundles the workflow code. Plain JavaScript, because it runs before TypeScript is there.
'use strict';
const { spawnSync } = require('node:child_process');
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

const installed = path.join('node_modules', '.package-lock.json');
const stale = !fs.existsSync(installed) || fs.statSync('package-lock.json').mtimeMs > fs.statSync(installed).mtimeMs;
// `npm install` rather than `npm ci`: the registry this runs against serves only the
// platform packages it needs (@swc/core's darwin and win32 builds answer 404), so the
// lock file cannot list them, and `npm ci` refuses any lock without every optional
// package. `npm install` installs exactly what the lock names and leaves it unchanged.
if (stale) step('npm install', 'npm', ['install', '--no-audit', '--no-fund']);
step('compile TypeScript', process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
step('bundle workflows', process.execPath, [path.join('dist', 'worker', 'bundle.js')]);
