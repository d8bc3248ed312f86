#!/usr/bin/env node
// Bundles the dashboard (ui/) into dist/ui: one minified script, one stylesheet and the
// page, which the API serves at `/` (api/routes/dashboard.ts). Nothing is fetched at run time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'ui');

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'ui', 'main.tsx')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await esbuild.build({
    entryPoints: [path.join(root, 'ui', 'style.css')],
    outfile: path.join(out, 'app.css'),
    bundle: true,
    minify: true,
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(root, 'ui', 'index.html'), path.join(out, 'index.html'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
