// Manifest parsing and directory rendering on files in a temporary directory (no servers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseManifests } from '../../activities/render/manifests';
import { renderDirectory } from '../../activities/render/directory';
import { kustomizeEdits } from '../../activities/render/kustomize';
import { insideRepo } from '../../activities/render/paths';
import { sourceTypeOf } from '../../activities/render';

test('multi-document YAML, Lists flattened, empty documents skipped', () => {
  const text =
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n';
  assert.deepEqual(
    parseManifests(text, 'x.yaml').map((m) => `${m.kind}/${m.metadata.name}`),
    ['ConfigMap/a', 'Secret/b'],
  );
});

test('invalid YAML names the file and line', () => {
  assert.throws(
    () => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n', 'apps/bad.yaml'),
    /^RenderError: apps\/bad\.yaml: line \d+: invalid YAML/,
  );
  assert.throws(() => parseManifests('{"kind": ', 'x.json'), /x\.json: invalid JSON/);
  assert.throws(() => parseManifests('just: text\n', 'y.yaml'), /y\.yaml .*no apiVersion or kind/);
});

test('directory: recurse, include and exclude globs, symlinks out of the repository refused', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-render-'));
  try {
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;
    fs.mkdirSync(path.join(root, 'app/sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'app/a.yaml'), cm('a'));
    fs.writeFileSync(path.join(root, 'app/application.yaml'), cm('app'));
    fs.writeFileSync(path.join(root, 'app/notes.txt'), 'not a manifest');
    fs.writeFileSync(path.join(root, 'app/sub/b.yml'), cm('b'));
    const names = (opts: object) => renderDirectory(root, path.join(root, 'app'), 'app', opts).map((m) => m.metadata.name);
    assert.deepEqual(names({}), ['a', 'app']);
    assert.equal(sourceTypeOf(path.join(root, 'app'), { repoURL: 'u' }), 'Directory');
    assert.equal(sourceTypeOf(path.join(root, 'app'), { repoURL: 'u', kustomize: {} }), 'Kustomize');
    fs.writeFileSync(path.join(root, 'app/Chart.yaml'), 'name: c\n');
    assert.equal(sourceTypeOf(path.join(root, 'app'), { repoURL: 'u' }), 'Helm');
    fs.rmSync(path.join(root, 'app/Chart.yaml'));
    assert.deepEqual(names({ exclude: 'application.yaml' }), ['a']);
    assert.deepEqual(names({ recurse: true }), ['a', 'app', 'b']);
    assert.deepEqual(names({ recurse: true, include: '{sub/*,a.yaml}' }), ['a', 'b']);
    fs.symlinkSync('/etc/hostname', path.join(root, 'app/evil.yaml'));
    assert.throws(() => names({}), /evil\.yaml is a symlink leading outside the repository/);
    fs.symlinkSync('/etc', path.join(root, 'out'));
    assert.throws(() => insideRepo(root, 'out'), /leads outside the repository/);
    assert.throws(() => insideRepo(root, '../x'), /leaves the repository/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('kustomize options become kustomize edit argument arrays', () => {
  assert.deepEqual(kustomizeEdits({ namePrefix: 'p-', images: ['nginx=nginx:1.27'], commonLabels: { team: 'a' }, replicas: [{ name: 'myapp', count: 4 }] }), [
    ['edit', 'set', 'nameprefix', '--', 'p-'],
    ['edit', 'set', 'image', '--', 'nginx=nginx:1.27'],
    ['edit', 'add', 'label', '--force', '--', 'team:a'],
    ['edit', 'set', 'replicas', '--', 'myapp=4'],
  ]);
});
