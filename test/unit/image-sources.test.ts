// Which source of an Application takes an image's update (spec.sources[]), and where the
// write-back goes: named cases as Image Updater documents them, and generated combinations
// of source types × write-back methods × targets that must converge (after the write the
// target holds the chosen value, the same source is chosen again, and a second write
// changes nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { imageUpdateConfig, type ImageSpec, type WriteBack } from '../../domain/images/annotations';
import { applyToFile, currentInFile, writeBackFile } from '../../domain/images/git-target';
import { applyMarkers, currentFromMarkers } from '../../domain/images/markers';
import { valueKey } from '../../domain/images/selection';
import {
  appSourcesOf,
  currentOnSource,
  sourceFor,
  sourceWithOverrides,
  writeKey,
  type AppSources,
  type SourceChoice,
  type UpdatableSource,
} from '../../domain/images/sources';
import { propertyOptions } from '../support/property-options';

const P = 'argocd-image-updater.argoproj.io/';
const GIT = 'https://git.example/team/deploy.git';
const VALUES = 'https://git.example/team/values.git';

function config(annotations: Record<string, string>) {
  const cfg = imageUpdateConfig(Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`${P}${k}`, v])))!;
  assert.deepEqual(cfg.problems, []);
  return cfg;
}
const decide = (app: AppSources, annotations: Record<string, string>) => {
  const cfg = config({ 'image-list': 'web=reg.example/team/web', ...annotations });
  return sourceFor(app, cfg.images[0]!, cfg.writeBack);
};
const multi = (sources: UpdatableSource[], sourceTypes?: string[]): AppSources =>
  appSourcesOf({ spec: { sources }, status: sourceTypes ? { sourceTypes } : {} });

const chartSource: UpdatableSource = {
  repoURL: 'https://charts.example',
  chart: 'web',
  targetRevision: '1.2.0',
  helm: { valueFiles: ['$values/envs/prod/values.yaml'] },
};
const valuesRef: UpdatableSource = { repoURL: VALUES, targetRevision: 'main', ref: 'values' };

test('one source: as before, the source itself, its path and revision for git', () => {
  const app = appSourcesOf({ spec: { source: { repoURL: GIT, path: 'charts/web', targetRevision: 'main', helm: {} } } });
  assert.deepEqual(decide(app, {}), { kind: 'helm' });
  assert.deepEqual(decide(app, { 'write-back-method': 'git' }), {
    kind: 'helm',
    git: { repoURL: GIT, targetRevision: 'main', path: 'charts/web', target: { kind: 'argocd-source' } },
  });
  const plain = appSourcesOf({ spec: { source: { repoURL: GIT, path: 'plain' } }, status: { sourceType: 'Directory' } });
  assert.match((decide(plain, {}) as { problem: string }).problem, /plain-directory source .* needs write-back-method git/);
  assert.equal((decide(plain, { 'write-back-method': 'git' }) as SourceChoice).kind, 'directory');
  const unknown = appSourcesOf({ spec: { source: { repoURL: GIT, path: 'x' } } });
  assert.match((decide(unknown, {}) as { problem: string }).problem, /cannot take image updates: neither Helm, Kustomize/);
});

test('a ref-only values source is skipped, wherever it stands', () => {
  const app = multi([valuesRef, { repoURL: GIT, path: 'charts/web', targetRevision: 'main', helm: { valueFiles: ['$values/web.yaml'] } }]);
  assert.deepEqual(decide(app, {}), { index: 1, kind: 'helm' });
  assert.deepEqual(decide(app, { 'write-back-method': 'git' }), {
    index: 1,
    kind: 'helm',
    git: { repoURL: GIT, targetRevision: 'main', path: 'charts/web', target: { kind: 'argocd-source' } },
  });
});

test('a chart from a Helm repository with a $values source: git write-back goes to the values file of the ref source', () => {
  const app = multi([chartSource, valuesRef]);
  const expected = {
    index: 0,
    kind: 'helm',
    git: { repoURL: VALUES, targetRevision: 'main', path: '', target: { kind: 'helmvalues', path: '/envs/prod/values.yaml' } },
  };
  // Argo CD's own notation, or the path the chart's valueFiles name.
  assert.deepEqual(decide(app, { 'write-back-method': 'git', 'write-back-target': 'helmvalues:$values/envs/prod/values.yaml' }), expected);
  assert.deepEqual(decide(app, { 'write-back-method': 'git', 'write-back-target': 'helmvalues:/envs/prod/values.yaml' }), expected);
  // Parameter overrides need no files: the chart source takes them.
  assert.deepEqual(decide(app, {}), { index: 0, kind: 'helm' });
  // .argocd-source-<app>.yaml cannot live in a Helm repository, and the ref source renders nothing: a problem naming both.
  const p = (decide(app, { 'write-back-method': 'git' }) as { problem: string }).problem;
  assert.match(p, /^no source of the Application can take this image: spec\.sources\[0\]: chart web comes from a Helm repository/);
  assert.match(p, /spec\.sources\[1\]: only lends files to the others \(ref: values\)/);
  assert.match(
    (decide(app, { 'write-back-method': 'git', 'write-back-target': 'helmvalues:$nope/v.yaml' }) as { problem: string }).problem,
    /no source has ref: nope/,
  );
});

test('git-repository: the write goes to that repository, at the source path; for a Helm repository chart at its root', () => {
  const OTHER = 'https://git.example/team/config.git';
  assert.deepEqual(decide(multi([chartSource, valuesRef]), { 'write-back-method': 'git', 'git-repository': OTHER }), {
    index: 0,
    kind: 'helm',
    git: { repoURL: OTHER, path: '', target: { kind: 'argocd-source' } },
  });
  const app = appSourcesOf({ spec: { source: { repoURL: GIT, path: 'overlays/prod', targetRevision: 'main', kustomize: {} } } });
  assert.deepEqual(decide(app, { 'write-back-method': 'git', 'git-repository': OTHER, 'write-back-target': 'kustomization' }), {
    kind: 'kustomize',
    git: { repoURL: OTHER, targetRevision: 'main', path: 'overlays/prod', target: { kind: 'kustomization', path: '.' } },
  });
  // Write-back argocd has no repository to write to: the setting does not apply.
  assert.deepEqual(decide(app, { 'git-repository': OTHER }), { kind: 'kustomize' });
  const bad = imageUpdateConfig({ [`${P}image-list`]: 'web=reg.example/web', [`${P}write-back-method`]: 'git', [`${P}git-repository`]: '--upload-pack=x' })!;
  assert.match(bad.problems.map((p) => p.message).join(), /invalid git-repository "--upload-pack=x"/);
});

test('Helm + Kustomize sources: the write-back target, then the image settings, choose the source type', () => {
  const helm: UpdatableSource = { repoURL: GIT, path: 'charts/web', targetRevision: 'main', helm: {} };
  const kust: UpdatableSource = { repoURL: GIT, path: 'overlays/prod', targetRevision: 'main' }; // Kustomize by detection only
  const app = multi([helm, kust], ['Helm', 'Kustomize']);
  assert.deepEqual(decide(app, {}), { index: 0, kind: 'helm' }, 'the first Helm or Kustomize source, as Image Updater');
  assert.deepEqual(decide(app, { 'web.kustomize.image-name': 'nginx' }), { index: 1, kind: 'kustomize' });
  assert.deepEqual(decide(multi([kust, helm], ['Kustomize', 'Helm']), { 'web.helm.image-tag': 'image.tag' }), { index: 1, kind: 'helm' });
  assert.deepEqual(decide(app, { 'write-back-method': 'git', 'write-back-target': 'kustomization' }), {
    index: 1,
    kind: 'kustomize',
    git: { repoURL: GIT, targetRevision: 'main', path: 'overlays/prod', target: { kind: 'kustomization', path: '.' } },
  });
  // Sluice's own status leaves ref-only sources out of sourceTypes: read in the order of the rendering ones.
  assert.deepEqual(decide(multi([valuesRef, kust, helm], ['Kustomize', 'Helm']), { 'web.kustomize.image-name': 'nginx' }), { index: 1, kind: 'kustomize' });
  // No status yet: the source without an explicit block is passed over until its type is known.
  assert.deepEqual(decide(multi([helm, kust]), { 'web.kustomize.image-name': 'nginx' }), { index: 0, kind: 'helm' });
  // A plugin source never takes it.
  assert.match(
    (decide(multi([{ repoURL: GIT, path: 'p', plugin: { name: 'cmp' } }]), {}) as { problem: string }).problem,
    /spec\.sources\[0\]: a plugin source/,
  );
});

// ---- generated combinations ----

type SourceShape = 'helm-git' | 'helm-chart' | 'kustomize' | 'kustomize-detected' | 'directory' | 'ref-only' | 'plugin' | 'unknown';
const SHAPES: SourceShape[] = ['helm-git', 'helm-chart', 'kustomize', 'kustomize-detected', 'directory', 'ref-only', 'plugin', 'unknown'];
const REPOS = [GIT, VALUES];

function sourceOf(shape: SourceShape, i: number, repo: string): { source: UpdatableSource; type?: string } {
  const path = `s${i}`;
  switch (shape) {
    case 'helm-git':
      return { source: { repoURL: repo, path, targetRevision: 'main', helm: { valueFiles: ['$values/values.yaml'] } }, type: 'Helm' };
    case 'helm-chart':
      return {
        source: { repoURL: 'https://charts.example', chart: `c${i}`, targetRevision: '1.0.0', helm: { valueFiles: ['$values/values.yaml'] } },
        type: 'Helm',
      };
    case 'kustomize':
      return { source: { repoURL: repo, path, targetRevision: 'main', kustomize: {} }, type: 'Kustomize' };
    case 'kustomize-detected':
      return { source: { repoURL: repo, path, targetRevision: 'main' }, type: 'Kustomize' };
    case 'directory':
      return { source: { repoURL: repo, path, targetRevision: 'main', directory: {} }, type: 'Directory' };
    case 'ref-only':
      return { source: { repoURL: repo, targetRevision: 'main', ref: i === 0 ? 'values' : `r${i}` } };
    case 'plugin':
      return { source: { repoURL: repo, path, targetRevision: 'main', plugin: {} }, type: 'Plugin' };
    case 'unknown':
      return { source: { repoURL: repo, path, targetRevision: 'main' } };
  }
}

const WRITE_BACKS: Record<string, string>[] = [
  {},
  { 'write-back-method': 'git' },
  { 'write-back-method': 'git', 'write-back-target': 'kustomization' },
  { 'write-back-method': 'git', 'write-back-target': 'helmvalues:values.yaml' },
  { 'write-back-method': 'git', 'write-back-target': 'helmvalues:/values.yaml' },
  { 'write-back-method': 'git', 'write-back-target': 'helmvalues:$values/values.yaml' },
];
/** Per image k; names differ between images (two images on one Helm value are a misconfiguration, not a case). */
const IMAGE_SETTINGS = ['none', 'helm', 'kustomize', 'helm-spec'] as const;
const settingsFor = (kind: (typeof IMAGE_SETTINGS)[number], k: number): Record<string, string> =>
  kind === 'helm'
    ? { 'helm.image-name': `i${k}.repository`, 'helm.image-tag': `i${k}.tag` }
    : kind === 'kustomize'
      ? { 'kustomize.image-name': `nginx${k}` }
      : kind === 'helm-spec'
        ? { 'helm.image-spec': `i${k}.full` }
        : {};

/** The files of every repository: a kustomization, a values file and a marked manifest in every path, and a values file at the root. */
function seedFiles(sources: UpdatableSource[], aliases: string[]): Map<string, string> {
  const files = new Map<string, string>();
  const marked = aliases.map((a) => `  ${a}: reg.example/${a}:0.0.1 # {"$imagepolicy": "default:${a}"}`).join('\n');
  for (const repo of REPOS) {
    files.set(`${repo}|values.yaml`, 'replicas: 1\n');
    for (let i = 0; i < sources.length; i++) {
      files.set(`${repo}|s${i}/kustomization.yaml`, 'resources: []\n');
      files.set(`${repo}|s${i}/values.yaml`, 'image: {}\n');
      files.set(`${repo}|s${i}/m.yaml`, `data:\n${marked}\n`);
    }
  }
  return files;
}

interface World {
  app: AppSources;
  files: Map<string, string>;
}

/** One write-back of every image's chosen value, as the activity does it (argocd: the sources; git: the files). */
function writeAll(world: World, images: ImageSpec[], wb: WriteBack, chosen: Map<string, string>, appName: string): World {
  const app: AppSources = { ...world.app, sources: world.app.sources.map((s) => structuredClone(s)) };
  const files = new Map(world.files);
  const groups = new Map<string, { choice: SourceChoice; updates: { spec: ImageSpec; chosen: { tag: string } }[] }>();
  for (const spec of images) {
    const d = sourceFor(world.app, spec, wb);
    if ('problem' in d) continue;
    const key = writeKey(d);
    if (!groups.has(key)) groups.set(key, { choice: d, updates: [] });
    groups.get(key)!.updates.push({ spec, chosen: { tag: chosen.get(spec.alias)! } });
  }
  for (const { choice, updates } of groups.values()) {
    if (!choice.git) {
      const i = choice.index ?? 0;
      app.sources[i] = sourceWithOverrides(app.sources[i]!, choice.kind, updates);
      continue;
    }
    const loc = choice.git;
    if (choice.kind === 'directory') {
      const key = `${loc.repoURL}|${loc.path}/m.yaml`;
      files.set(
        key,
        applyMarkers(
          files.get(key)!,
          updates.map((u) => ({ alias: u.spec.alias, name: u.spec.image.name, chosen: u.chosen })),
        ),
      );
      continue;
    }
    const key = `${loc.repoURL}|${writeBackFile(loc.target, loc.path, appName)}`;
    files.set(key, applyToFile(loc.target, choice.kind, files.get(key), updates));
  }
  return { app, files };
}

function currentOf(world: World, spec: ImageSpec, choice: SourceChoice, appName: string): string | undefined {
  if (!choice.git) return currentOnSource(world.app.sources[choice.index ?? 0]!, choice.kind, spec);
  const loc = choice.git;
  if (choice.kind === 'directory') return currentFromMarkers(world.files.get(`${loc.repoURL}|${loc.path}/m.yaml`), spec.alias);
  return currentInFile(loc.target, choice.kind, world.files.get(`${loc.repoURL}|${writeBackFile(loc.target, loc.path, appName)}`), spec);
}

test('generated source types × write-back methods × targets converge: the chosen value lands once, a second write changes nothing', () => {
  const arb = fc.record({
    shapes: fc.array(fc.constantFrom(...SHAPES), { minLength: 1, maxLength: 4 }),
    repos: fc.array(fc.constantFrom(...REPOS), { minLength: 4, maxLength: 4 }),
    single: fc.boolean(),
    statusStyle: fc.constantFrom('argo', 'sluice', 'none'),
    wb: fc.constantFrom(...WRITE_BACKS),
    images: fc.array(fc.constantFrom(...IMAGE_SETTINGS), { minLength: 1, maxLength: 3 }),
    tags: fc.array(fc.constantFrom('1.0.0', '1.2.3', '2.0.0'), { minLength: 3, maxLength: 3 }),
  });
  fc.assert(
    fc.property(arb, ({ shapes, repos, single, statusStyle, wb, images, tags }) => {
      const built = shapes.map((s, i) => sourceOf(s, i, repos[i]!));
      const sources = built.map((b) => b.source);
      const refOnly = (s: UpdatableSource) => !!s.ref && !s.path && !s.chart;
      const app: AppSources =
        single && !refOnly(sources[0]!)
          ? appSourcesOf({ spec: { source: sources[0]! }, status: built[0]!.type ? { sourceType: built[0]!.type } : {} })
          : appSourcesOf({
              spec: { sources },
              status:
                statusStyle === 'argo'
                  ? { sourceTypes: built.map((b) => b.type ?? '') }
                  : statusStyle === 'sluice'
                    ? { sourceTypes: built.filter((b) => !refOnly(b.source)).map((b) => b.type ?? '') }
                    : {},
            });
      const annotations: Record<string, string> = { ...wb, 'image-list': images.map((_, k) => `a${k}=reg.example/team/a${k}`).join(',') };
      images.forEach((kind, k) => Object.entries(settingsFor(kind, k)).forEach(([o, v]) => (annotations[`a${k}.${o}`] = v)));
      const cfg = config(annotations);
      const chosen = new Map(cfg.images.map((s, k) => [s.alias, tags[k]!]));
      let world: World = {
        app,
        files: seedFiles(
          app.sources,
          cfg.images.map((s) => s.alias),
        ),
      };
      const decisions = cfg.images.map((s) => sourceFor(app, s, cfg.writeBack));
      // Two images on Image Updater's default Helm names (image.name/image.tag) of one source overwrite each other: a misconfiguration, not a case.
      const helmValues = (d: SourceChoice) =>
        d.git
          ? d.kind !== 'directory' && (d.git.target.kind === 'helmvalues' || (d.git.target.kind === 'argocd-source' && d.kind === 'helm'))
          : d.kind === 'helm';
      const onDefaults = decisions.filter((d, k) => !('problem' in d) && helmValues(d) && !cfg.images[k]!.helm).map((d) => writeKey(d as SourceChoice));
      fc.pre(new Set(onDefaults).size === onDefaults.length);
      for (const [k, d] of decisions.entries()) {
        if ('problem' in d) {
          assert.match(d.problem, /\S/);
          continue;
        }
        const s = app.sources[d.index ?? 0]!;
        assert.ok(!(app.multi && refOnly(s)), 'never a ref-only source');
        assert.ok(!s.plugin, 'never a plugin source');
        assert.equal(d.index === undefined, !app.multi);
        if (cfg.writeBack.method === 'argocd') assert.notEqual(d.kind, 'directory');
        if (d.git) {
          assert.ok(d.git.repoURL !== 'https://charts.example', 'git never writes to a Helm repository');
          assert.doesNotThrow(() => writeBackFile(d.git!.target, d.git!.path, 'app'));
        }
        assert.deepEqual(sourceFor(app, cfg.images[k]!, cfg.writeBack), d, 'deterministic');
      }
      world = writeAll(world, cfg.images, cfg.writeBack, chosen, 'app');
      for (const [k, d] of decisions.entries()) {
        if ('problem' in d) continue;
        const spec = cfg.images[k]!;
        // The write does not move the image to another source, and the target now holds the chosen tag.
        assert.deepEqual(sourceFor(world.app, spec, cfg.writeBack), d);
        assert.equal(currentOf(world, spec, d, 'app'), valueKey(chosen.get(spec.alias)));
      }
      // Sources other than the chosen ones are untouched.
      world.app.sources.forEach((s, i) => {
        if (!decisions.some((d) => !('problem' in d) && !d.git && (d.index ?? 0) === i)) assert.deepEqual(s, app.sources[i]);
      });
      const again = writeAll(world, cfg.images, cfg.writeBack, chosen, 'app');
      assert.deepEqual(again.app, world.app, 'a second write of the same values changes no source');
      assert.deepEqual([...again.files], [...world.files], 'and no file');
    }),
    propertyOptions(300),
  );
});
