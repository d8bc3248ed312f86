// The install files agree with the source they are copied from: the chart's CRDs are
// k8s/crds, the chart's RBAC is the base's, every RBAC rule says why, and the image builds
// the renderers at the versions the local toolchain pins.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { GOJQ_VERSION, HELM_VERSION, KUSTOMIZE_VERSION } from '../../stack/toolchain';
import { repoRoot } from '../support/paths';

const read = (...p: string[]) => fs.readFileSync(path.join(repoRoot, ...p), 'utf8');

test("the chart's CRDs are k8s/crds, byte for byte, and the Kustomize base lists each", () => {
  const source = fs.readdirSync(path.join(repoRoot, 'k8s', 'crds')).filter((f) => f.endsWith('.yaml'));
  const copies = fs.readdirSync(path.join(repoRoot, 'deploy', 'helm', 'sluice', 'crds'));
  assert.deepEqual(copies.sort(), source.sort());
  for (const f of source) assert.equal(read('deploy', 'helm', 'sluice', 'crds', f), read('k8s', 'crds', f), f);
  const kustomization = read('deploy', 'kustomization.yaml');
  for (const f of source) assert.ok(kustomization.includes(`helm/sluice/crds/${f}`), `deploy/kustomization.yaml lists ${f}`);
});

test("the chart's RBAC starts with the base's, unchanged", () => {
  assert.ok(read('deploy', 'helm', 'sluice', 'templates', 'rbac.yaml').includes(read('deploy', 'base', 'rbac.yaml')));
});

test('every rule of every ClusterRole and Role has a comment saying why', () => {
  const text = read('deploy', 'base', 'rbac.yaml');
  const lines = text.split('\n');
  const undocumented = lines
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => /^\s*- apiGroups:/.test(line))
    .filter(({ i }) => !/^\s*#/.test(lines[i - 1]))
    .map(({ line, i }) => `line ${i + 1}: ${line.trim()}`);
  assert.deepEqual(undocumented, []);
  // No wildcard anywhere: least privilege is spelled out.
  for (const doc of parseAllDocuments(text)) {
    const rules = ((doc.toJS() as { rules?: { verbs: string[]; resources: string[]; apiGroups: string[] }[] }).rules ?? []).flat();
    for (const r of rules) for (const v of [...r.verbs, ...r.resources, ...r.apiGroups]) assert.notEqual(v, '*');
  }
});

test("the Dockerfile builds the renderers at the toolchain's versions and runs as non-root", () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, new RegExp(`ARG KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION}\\n`));
  assert.match(dockerfile, new RegExp(`ARG HELM_VERSION=${HELM_VERSION}\\n`));
  assert.match(dockerfile, new RegExp(`ARG GOJQ_VERSION=${GOJQ_VERSION}\\n`));
  assert.match(dockerfile, /^FROM node:20-/m);
  assert.match(dockerfile, /^USER 10001:10001$/m);
  assert.match(dockerfile, /apt-get install [^\n]*\bgit\b/);
  // What the process reads at run time is copied into the final stage.
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  for (const p of ['node_modules', 'dist', 'k8s/crds', 'package.json']) assert.match(final, new RegExp(`COPY .*${p.replace('/', '\\/')}`), p);
  // Every source folder the compiler needs is copied into the build stage.
  const tsconfig = JSON.parse(read('tsconfig.json')) as { include?: string[] };
  for (const inc of tsconfig.include ?? []) {
    const top = inc.split('/')[0];
    if (inc.includes('*') || !fs.existsSync(path.join(repoRoot, top))) continue;
    assert.match(dockerfile, new RegExp(`^COPY ${top} ${top}$`, 'm'), `the build stage copies ${top}/`);
  }
});
