// The workflow bundle's memory savings: the domain modules shared by every workflow of a
// thread, and the bundle's text slimmed without changing what it runs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { test } from 'node:test';
import { prebuiltBundlePath } from '../../worker/worker';
import { pureModulesOf, slimmed } from '../../worker/workflow-code';

const dist = path.resolve(__dirname, '..', '..');

test('the modules preloaded for all workflows are the domain modules the workflows use, and only those', () => {
  const modules = pureModulesOf(require.resolve('../../workflows')).map((f) => path.relative(dist, f).split(path.sep).join('/'));
  assert.ok(modules.includes('domain/rollouts/decide.js'));
  assert.ok(modules.includes('domain/analysis/condition.js'));
  assert.ok(modules.every((m) => m.startsWith('domain/')));
  // Not used by any workflow, so not pulled into the bundle by preloading it.
  assert.ok(!modules.includes('domain/rbac/policy.js'));
});

test('a slimmed bundle runs the same code: escapes instead of characters beyond ASCII, the source map without the sources', () => {
  const map = { version: 3, file: 'b.js', sources: ['a.ts'], sourcesContent: ['export const a = "x";'], mappings: 'AAAA', names: [] };
  const code = `globalThis.out = ["dash — arrow → ü", /—+/.source, \`t→\`]; // a comment — with a dash\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
  const slim = slimmed(code);
  assert.match(slim, /^[\t\n\r\x20-\x7e]*$/);
  const context = vm.createContext({});
  vm.runInContext(slim, context);
  assert.deepEqual(JSON.parse(JSON.stringify(context.out)), ['dash — arrow → ü', '\\u2014+', 't→']);
  const slimMap = JSON.parse(Buffer.from(slim.slice(slim.indexOf('base64,') + 7), 'base64').toString()) as Record<string, unknown>;
  assert.deepEqual(slimMap, { version: 3, file: 'b.js', sources: ['a.ts'], mappings: 'AAAA', names: [] });
});

test('the prebuilt bundle is slimmed and preloads the domain modules', () => {
  const bundle = fs.readFileSync(prebuiltBundlePath, 'utf8');
  assert.match(bundle, /^[\t\n\r\x20-\x7e]*$/);
  const map = JSON.parse(Buffer.from(bundle.slice(bundle.lastIndexOf('base64,') + 7), 'base64').toString()) as Record<string, unknown>;
  assert.ok(map.mappings && !('sourcesContent' in map));
  const preload = bundle.slice(bundle.indexOf('exports.preloadModules'), bundle.indexOf('exports.importWorkflows'));
  assert.match(preload, /dist\/domain\/rollouts\/decide\.js/);
});
