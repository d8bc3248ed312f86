// Every argoproj.io manifest in ../shared/examples is accepted by our CRDs, unchanged,
// as the real API server validates it (server-side dry run, strict field validation).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Resources } from '../../k8s/kube-client';
import { examplesDir } from '../support/paths';
import { kubectl, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
before(async () => {
  stack = await testStack();
  // The examples name the argocd namespace, as Argo CD installs do.
  if (!(await stack.kube.find(Resources.namespace, undefined, 'argocd'))) {
    await stack.kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } });
  }
});
after(() => stack?.stop());

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : e.name.endsWith('.yaml') ? [path.join(dir, e.name)] : []));
}

const manifests = yamlFiles(examplesDir).flatMap((file) =>
  parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter((doc) => doc && typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('argoproj.io/'))
    .map((doc) => ({ file: path.relative(examplesDir, file), doc })),
);

test('the examples contain every kind Sluice reads', () => {
  const kinds = new Set(manifests.map((m) => m.doc.kind));
  for (const kind of ['Rollout', 'AnalysisTemplate', 'Application', 'AppProject', 'ApplicationSet']) assert.ok(kinds.has(kind), `no ${kind} in the examples`);
});

for (const { file, doc } of manifests) {
  test(`${file}: ${doc.kind} ${doc.metadata.name} is accepted`, async () => {
    const out = await kubectl(
      stack,
      ['apply', '--dry-run=server', '--validate=strict', '-n', doc.metadata.namespace ?? 'default', '-f', '-'],
      JSON.stringify(doc),
    );
    assert.match(out, /created|configured|unchanged/);
  });
}
