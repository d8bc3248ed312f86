// The house rules, read from the import graph of the source (not the compiled output):
// which folder may import which, which libraries each may use, and no import cycles.
// README.md § Architecture explains each rule.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths';
import { importsOf, layerOf, layerRules, findCycles, type SourceImport } from '../support/import-graph';

const sources = new Map<string, SourceImport[]>();
for (const layer of Object.keys(layerRules)) {
  const dir = path.join(repoRoot, layer);
  if (!fs.existsSync(dir)) continue;
  for (const file of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.includes('controlplane')) continue;
    const rel = path.posix.join(layer, file.split(path.sep).join('/'));
    sources.set(rel, importsOf(rel, fs.readFileSync(path.join(repoRoot, rel), 'utf8')));
  }
}

test('the source tree has every layer the rules name', () => {
  for (const layer of Object.keys(layerRules))
    assert.ok(
      [...sources.keys()].some((f) => layerOf(f) === layer),
      `no source under ${layer}/`,
    );
});

test('each layer imports only the layers its rule allows', () => {
  const broken: string[] = [];
  for (const [file, imports] of sources) {
    const rule = layerRules[layerOf(file)];
    for (const imp of imports) {
      if (!imp.target) continue;
      const to = layerOf(imp.target);
      if (to === layerOf(file) || rule.layers.includes(to)) continue;
      if (imp.typeOnly && rule.typesFrom?.includes(to)) continue;
      broken.push(`${file} imports ${imp.target}${imp.typeOnly ? ' (types)' : ''}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('each layer uses only the libraries its rule allows', () => {
  const broken: string[] = [];
  for (const [file, imports] of sources) {
    const rule = layerRules[layerOf(file)];
    for (const imp of imports) {
      if (imp.target || imp.typeOnly) continue;
      if (rule.forbiddenPackages.some((p) => imp.specifier === p || imp.specifier.startsWith(`${p}/`))) broken.push(`${file} uses ${imp.specifier}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('no file imports itself through others (type-only imports aside)', () => {
  const runtime = new Map([...sources].map(([f, imps]) => [f, imps.filter((i) => i.target && !i.typeOnly).map((i) => i.target as string)]));
  assert.deepEqual(findCycles(runtime), []);
});

test('the import reader sees what the rules are about', () => {
  // Guards the rules against a reader that silently finds nothing.
  const imports = importsOf(
    'workflows/x.ts',
    "import type { A } from '../activities/a';\nimport { b } from '../domain/b';\nexport * from './c';\nconst d = await import('../k8s/d');\nimport e from 'fastify';",
  );
  assert.deepEqual(
    imports.map((i) => [i.specifier, i.target, i.typeOnly]),
    [
      ['../activities/a', 'activities/a.ts', true],
      ['../domain/b', 'domain/b.ts', false],
      ['./c', 'workflows/c.ts', false],
      ['../k8s/d', 'k8s/d.ts', false],
      ['fastify', undefined, false],
    ],
  );
  assert.deepEqual(
    findCycles(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
        ['d', ['a']],
      ]),
    ),
    [['a', 'b', 'c']],
  );
});
