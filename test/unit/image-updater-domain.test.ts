// Image Updater's annotations, tag selection per strategy, write-back file contents and the
// no-update-loop rule, with generated tag lists for determinism and convergence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { imageUpdateConfig, type ImageSpec } from '../../domain/images/annotations';
import { compareVersions, parseConstraint, parseVersion, satisfies } from '../../domain/argo/semver';
import { parseImageReference } from '../../domain/images/reference';
import { chooseTag, chosenValue, decideWrite, registryFingerprint, valueKey, type LastWrite } from '../../domain/images/selection';
import type { TagInfo } from '../../domain/images/strategies';
import {
  commitMessage,
  helmParametersFor,
  helmParametersIn,
  helmSourceFile,
  helmTagIn,
  helmValueAt,
  helmValuesWith,
  kustomizationTag,
  kustomizationWithImage,
  kustomizeImageFor,
  kustomizeImagesIn,
  kustomizeSourceFile,
  kustomizeTagIn,
} from '../../domain/images/write-back';
import { overrideFileNames, withSourceOverrides } from '../../domain/images/source-overrides';
import { examplesDir } from '../support/paths';
import { propertyOptions } from '../support/property-options';

const P = 'argocd-image-updater.argoproj.io/';
const example = parse(readFileSync(path.join(examplesDir, 'image-updater', 'image-updater-annotations.yaml'), 'utf8')) as {
  metadata: { annotations: Record<string, string> };
};
const tags = (...names: string[]): TagInfo[] => names.map((name) => ({ name }));

function spec(annotations: Record<string, string>): ImageSpec {
  const cfg = imageUpdateConfig(annotations)!;
  assert.deepEqual(cfg.problems, []);
  return cfg.images[0]!;
}

test('the example Application parses unchanged: semver, X.Y.Z allow-tags, Helm value names, git write-back', () => {
  const cfg = imageUpdateConfig(example.metadata.annotations)!;
  assert.deepEqual(cfg.problems, []);
  assert.equal(cfg.images.length, 1);
  const img = cfg.images[0]!;
  assert.equal(img.alias, 'api-tester');
  assert.equal(img.strategy, 'semver');
  assert.equal(img.image.registry, 'docker.io');
  // The example keeps its placeholder user name; it parses, and the registry is what refuses it.
  assert.equal(img.image.repository, '<dockerhub-username>/api-tester');
  assert.equal(img.allowTags, '^[0-9]+\\.[0-9]+\\.[0-9]+$');
  assert.deepEqual(img.helm, { imageName: 'image.repository', imageTag: 'image.tag' });
  assert.deepEqual(cfg.writeBack, { method: 'git', credentials: { kind: 'repocreds' }, target: { kind: 'argocd-source' } });
  // The seed's scenario: 1.0.1, then 1.1.0-rc1 and latest: 1.0.1 stays the choice; then 1.2.0.
  assert.equal(chooseTag(img, tags('1.0.0', '1.0.1', '1.1.0-rc1', 'latest'), 0).tag?.name, '1.0.1');
  assert.equal(chooseTag(img, tags('1.0.0', '1.0.1', '1.1.0-rc1', 'latest', '1.2.0'), 0).tag?.name, '1.2.0');
});

test('image-list entries: alias, registry with port, constraint, several images, old strategy names', () => {
  const cfg = imageUpdateConfig({
    [`${P}image-list`]: 'a=127.0.0.1:5000/team/app:~1.2, b=nginx, c=ghcr.io/o/c:latest',
    [`${P}a.update-strategy`]: 'semver',
    [`${P}b.update-strategy`]: 'latest',
    [`${P}c.update-strategy`]: 'digest',
    [`${P}b.ignore-tags`]: 'latest, dev-*',
    [`${P}b.platforms`]: 'linux/arm64,linux/amd64',
    [`${P}b.pull-secret`]: 'pullsecret:argocd/hub',
    [`${P}c.pull-secret`]: 'secret:argocd/ghcr#creds',
    [`${P}c.force-update`]: 'true',
    [`${P}b.kustomize.image-name`]: 'nginx',
    [`${P}a.helm.image-spec`]: 'app.image',
    [`${P}a.min-age`]: '10m',
    [`${P}write-back-method`]: 'git:secret:argocd/git-creds',
    [`${P}git-branch`]: 'main:image-updates',
    [`${P}write-back-target`]: 'kustomization:../base',
  })!;
  assert.deepEqual(cfg.problems, []);
  const [a, b, c] = cfg.images;
  assert.deepEqual([a!.image.registry, a!.image.repository, a!.image.name, a!.constraint], ['127.0.0.1:5000', 'team/app', '127.0.0.1:5000/team/app', '~1.2']);
  assert.equal(a!.minAgeMs, 600_000);
  assert.deepEqual(a!.helm, { imageSpec: 'app.image' });
  assert.deepEqual(
    [b!.strategy, b!.image.repository, b!.ignoreTags, b!.platforms],
    ['newest-build', 'library/nginx', ['latest', 'dev-*'], ['linux/arm64', 'linux/amd64']],
  );
  assert.deepEqual(b!.pullSecret, { kind: 'pullsecret', namespace: 'argocd', name: 'hub' });
  assert.deepEqual(c!.pullSecret, { kind: 'secret', namespace: 'argocd', name: 'ghcr', key: 'creds' });
  assert.equal(c!.forceUpdate, true);
  assert.deepEqual(cfg.writeBack, {
    method: 'git',
    credentials: { kind: 'secret', namespace: 'argocd', name: 'git-creds' },
    baseBranch: 'main',
    targetBranch: 'image-updates',
    target: { kind: 'kustomization', path: '../base' },
  });
  assert.equal(spec({ [`${P}image-list`]: 'x=x', [`${P}x.update-strategy`]: 'name' }).strategy, 'alphabetical');
  assert.deepEqual(
    imageUpdateConfig({ [`${P}image-list`]: 'x=x', [`${P}write-back-target`]: 'helmvalues:/charts/v.yaml', [`${P}write-back-method`]: 'git' })!.writeBack,
    {
      method: 'git',
      credentials: { kind: 'repocreds' },
      target: { kind: 'helmvalues', path: '/charts/v.yaml' },
    },
  );
  assert.equal(imageUpdateConfig({}), undefined);
});

test('bad options name the alias and the cause, and leave the other images working', () => {
  const cfg = imageUpdateConfig({
    [`${P}image-list`]: 'bad=x/bad, re=x/re, con=x/con:>>1, ok=x/ok, dig=x/dig',
    [`${P}bad.update-strategy`]: 'newest',
    [`${P}re.allow-tags`]: 'regexp:^(1\\.',
    [`${P}dig.update-strategy`]: 'digest',
    [`${P}write-back-method`]: 'svn',
  })!;
  assert.deepEqual(
    cfg.images.map((i) => i.alias),
    ['ok'],
  );
  const msg = (alias: string | undefined) => cfg.problems.find((p) => p.alias === alias)?.message ?? '';
  assert.match(msg('bad'), /unknown update-strategy "newest"/);
  assert.match(msg('re'), /invalid allow-tags regexp/);
  assert.match(msg('con'), /invalid semver constraint ">>1"/);
  assert.match(msg('dig'), /digest needs the tag/);
  assert.match(msg(undefined), /unknown write-back-method "svn"/);
  assert.equal(cfg.writeBack.method, 'argocd');
});

test('Go regexp spellings: (?i) and (?P<name>…) compile', () => {
  const s = spec({ [`${P}image-list`]: 'x=x', [`${P}x.allow-tags`]: 'regexp:(?i)^v(?P<n>[0-9]+)$', [`${P}x.update-strategy`]: 'alphabetical' });
  assert.equal(chooseTag(s, tags('V1', 'v2', 'w3'), 0).tag?.name, 'v2');
});

test('semver: loose versions, precedence, Masterminds constraints', () => {
  assert.deepEqual(parseVersion('v1.2'), { major: 1, minor: 2, patch: 0, prerelease: '', original: 'v1.2' });
  assert.equal(parseVersion('latest'), undefined);
  assert.equal(parseVersion('1.0.0-01'), undefined);
  const cmp = (a: string, b: string) => compareVersions(parseVersion(a)!, parseVersion(b)!);
  assert.equal(cmp('1.0.0-rc.1', '1.0.0'), -1);
  assert.equal(cmp('1.0.0-rc.2', '1.0.0-rc.10'), -1);
  assert.equal(cmp('1.0.0-alpha', '1.0.0-1'), 1);
  assert.equal(cmp('1.0', '1.0.0+build'), 0);
  const cases: [string, string, boolean][] = [
    ['~1.2', '1.2.9', true],
    ['~1.2', '1.3.0', false],
    ['~1.2.3', '1.2.2', false],
    ['~1', '1.9.0', true],
    ['^1.2.3', '1.9.9', true],
    ['^1.2.3', '2.0.0', false],
    ['^0.2.3', '0.3.0', false],
    ['^0.0.3', '0.0.4', false],
    ['1.2.x', '1.2.7', true],
    ['1.2.x', '1.3.0', false],
    ['*', '9.9.9', true],
    ['*', '1.0.0-rc1', false],
    ['>1.2', '1.2.9', false],
    ['>1.2', '1.3.0', true],
    ['<=1.2', '1.2.9', true],
    ['>= 1.0, < 2.0', '1.5.0', true],
    ['>=1.0 <2.0', '2.0.0', false],
    ['<1.0 || >=3', '3.1.0', true],
    ['1.1 - 1.3.0', '1.3.0', true],
    ['1.1 - 1.3.0', '1.3.1', false],
    ['!=1.2.3', '1.2.3', false],
    ['~1.0', '1.0.1-rc1', false],
    ['>=1.0.0-rc1', '1.0.0-rc2', true],
    ['=1.2.3', '1.2.3', true],
  ];
  for (const [c, v, want] of cases) assert.equal(satisfies(parseVersion(v)!, parseConstraint(c)), want, `${v} ${c}`);
});

test('strategies: semver with constraint, newest-build by created, alphabetical, digest', () => {
  const semver = spec({ [`${P}image-list`]: 'x=x:~1.0' });
  assert.equal(chooseTag(semver, tags('1.0.0', '1.0.9', '1.1.0', 'latest', 'v1.0.10'), 0).tag?.name, 'v1.0.10');
  const newest = spec({ [`${P}image-list`]: 'x=x', [`${P}x.update-strategy`]: 'newest-build', [`${P}x.ignore-tags`]: 'latest' });
  const dated = [{ name: 'a', created: 3 }, { name: 'latest', created: 9 }, { name: 'b', created: 5 }, { name: 'c' }];
  assert.equal(chooseTag(newest, dated, 10).tag?.name, 'b');
  const alpha = spec({ [`${P}image-list`]: 'x=x', [`${P}x.update-strategy`]: 'alphabetical' });
  assert.equal(chooseTag(alpha, tags('2024.01.15', '2024.02.01', '2023.12.31'), 0).tag?.name, '2024.02.01');
  const digest = spec({ [`${P}image-list`]: 'x=x:latest', [`${P}x.update-strategy`]: 'digest' });
  const d = `sha256:${'a'.repeat(64)}`;
  const choice = chooseTag(digest, [{ name: '1.0' }, { name: 'latest', digest: d }], 0);
  assert.deepEqual(chosenValue(digest, choice.tag!), { tag: 'latest', digest: d });
  assert.equal(chooseTag(digest, tags('1.0'), 0).tag, undefined);
});

test('min-age and platforms skip the best candidates and say why', () => {
  const s = spec({ [`${P}image-list`]: 'x=x', [`${P}x.min-age`]: '10m', [`${P}x.platforms`]: 'linux/arm64' });
  const now = 100 * 60_000;
  const choice = chooseTag(
    s,
    [
      { name: '1.3.0', created: now - 60_000, platforms: ['linux/arm64'] },
      { name: '1.2.0', created: now - 3_600_000, platforms: ['linux/amd64'] },
      { name: '1.1.0', created: now - 3_600_000, platforms: ['linux/amd64', 'linux/arm64/v8'] },
    ],
    now,
  );
  assert.equal(choice.tag?.name, '1.1.0');
  assert.deepEqual(choice.skipped, [
    { tag: '1.3.0', why: 'too-young' },
    { tag: '1.2.0', why: 'no-platform' },
  ]);
  assert.match(chooseTag(s, [{ name: '1.0.0' }], now).reason, /no-metadata/);
});

test('.argocd-source files: Helm and Kustomize shapes, merged with what is there, idempotent', () => {
  const img = imageUpdateConfig(example.metadata.annotations)!.images[0]!;
  const params = helmParametersFor(img, { tag: '1.0.1' });
  const first = helmSourceFile(undefined, params);
  assert.deepEqual(parse(first), {
    helm: {
      parameters: [
        { name: 'image.repository', value: 'docker.io/<dockerhub-username>/api-tester', forcestring: true },
        { name: 'image.tag', value: '1.0.1', forcestring: true },
      ],
    },
  });
  const withOther = helmSourceFile(`helm:\n  parameters:\n  - name: replicas\n    value: "2"\n    forcestring: false\n`, params);
  assert.deepEqual(
    helmParametersIn(withOther).map((p) => p.name),
    ['replicas', 'image.repository', 'image.tag'],
  );
  const second = helmSourceFile(first, helmParametersFor(img, { tag: '1.2.0' }));
  assert.equal(helmTagIn(helmParametersIn(second), img), '1.2.0');
  assert.equal(helmSourceFile(second, helmParametersFor(img, { tag: '1.2.0' })), second);

  const k = spec({ [`${P}image-list`]: 'web=127.0.0.1:5000/web', [`${P}web.kustomize.image-name`]: 'nginx' });
  const kfile = kustomizeSourceFile(undefined, [kustomizeImageFor(k, { tag: '2.0' })]);
  assert.deepEqual(parse(kfile), { kustomize: { images: ['nginx=127.0.0.1:5000/web:2.0'] } });
  const kfile2 = kustomizeSourceFile(kfile, [kustomizeImageFor(k, { tag: '2.1' })]);
  assert.deepEqual(kustomizeImagesIn(kfile2), ['nginx=127.0.0.1:5000/web:2.1']);
  assert.equal(kustomizeTagIn(kustomizeImagesIn(kfile2), k), '2.1');
  const d = `sha256:${'b'.repeat(64)}`;
  assert.equal(kustomizeTagIn([kustomizeImageFor(k, { tag: 'latest', digest: d })], k), d);
});

test('kustomization images and Helm values files are edited in place', () => {
  const k = spec({ [`${P}image-list`]: 'web=127.0.0.1:5000/web', [`${P}web.kustomize.image-name`]: 'nginx' });
  const text = `# base\nresources:\n  - deployment.yaml\nimages:\n  - name: other\n    newTag: "1"\n`;
  const out = kustomizationWithImage(text, k, { tag: '2.0' });
  assert.match(out, /^# base/);
  assert.deepEqual(parse(out).images, [
    { name: 'other', newTag: '1' },
    { name: 'nginx', newName: '127.0.0.1:5000/web', newTag: '2.0' },
  ]);
  assert.equal(kustomizationTag(out, k), '2.0');
  assert.equal(kustomizationWithImage(out, k, { tag: '2.0' }), out);
  const img = imageUpdateConfig(example.metadata.annotations)!.images[0]!;
  const values = `replicaCount: 1 # one\nimage:\n  repository: old\n  tag: 0.9.0\n`;
  const v2 = helmValuesWith(values, helmParametersFor(img, { tag: '1.0.1' }));
  assert.match(v2, /replicaCount: 1 # one/);
  assert.equal(helmValueAt(v2, 'image.tag'), '1.0.1');
  assert.equal(helmValueAt(v2, 'image.repository'), 'docker.io/<dockerhub-username>/api-tester');
});

test('commit message names each image and its tags', () => {
  assert.equal(
    commitMessage('api', [{ image: 'reg/api', from: '1.0.0', to: '1.0.1' }]),
    "build: automatic update of api\n\nupdates image reg/api tag '1.0.0' to '1.0.1'\n",
  );
});

test('no update loop: a reverted write is not repeated until the registry changes', () => {
  const fp = registryFingerprint({ name: '1.0.1', digest: 'sha256:1' });
  assert.deepEqual(decideWrite({ chosen: '1.0.1', current: '1.0.0', fingerprint: fp, last: undefined }).write, true);
  const last: LastWrite = { value: '1.0.1', fingerprint: fp };
  assert.equal(decideWrite({ chosen: '1.0.1', current: '1.0.1', fingerprint: fp, last }).write, false);
  // Someone reverted the commit in Git: 1.0.0 again, same registry state.
  assert.equal(decideWrite({ chosen: '1.0.1', current: '1.0.0', fingerprint: fp, last }).write, false);
  // The tag is pushed again with new content: a new registry change.
  assert.equal(decideWrite({ chosen: '1.0.1', current: '1.0.0', fingerprint: registryFingerprint({ name: '1.0.1', digest: 'sha256:2' }), last }).write, true);
  assert.equal(valueKey('latest@sha256:abc'), 'sha256:abc');
  assert.equal(parseImageReference('nginx:1.2@sha256:' + 'c'.repeat(64)).tag, '1.2');
});

const tagArb = fc.oneof(
  fc
    .tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.option(fc.constantFrom('rc1', 'rc.2', 'beta'), { nil: undefined }))
    .map(([a, b, c, p]) => `${a}.${b}.${c}${p ? `-${p}` : ''}`),
  fc.constantFrom('latest', 'main', 'v1.2', '1.0', 'dev-abc', '2024.01.15'),
);
const tagListArb = fc.uniqueArray(
  fc
    .record({ name: tagArb, created: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }) })
    .map((t) => (t.created === undefined ? { name: t.name } : t)),
  { selector: (t) => t.name, maxLength: 15 },
);
const specArb = fc.record({
  strategy: fc.constantFrom('semver', 'latest', 'name', 'newest-build', 'alphabetical'),
  constraint: fc.constantFrom('', ':~1.0', ':^1', ':>=1.0 <3'),
  allow: fc.constantFrom(undefined, 'regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$', 'regexp:^v'),
  ignore: fc.constantFrom(undefined, 'latest', '*-rc*,main'),
});
const specOf = (s: { strategy: string; constraint: string; allow?: string; ignore?: string }): ImageSpec =>
  spec({
    [`${P}image-list`]: `x=reg.local/x${s.strategy === 'semver' ? s.constraint : ''}`,
    [`${P}x.update-strategy`]: s.strategy,
    ...(s.allow ? { [`${P}x.allow-tags`]: s.allow } : {}),
    ...(s.ignore ? { [`${P}x.ignore-tags`]: s.ignore } : {}),
  });

test('property: the choice does not depend on the order the registry lists tags in', () => {
  fc.assert(
    fc.property(specArb, tagListArb, fc.integer(), (s, list, seed) => {
      const img = specOf(s);
      const shuffled = [...list].sort((a, b) => ((a.name.length * 31 + seed) % 7) - ((b.name.length * 31 + seed) % 7) || (a.name < b.name ? 1 : -1));
      assert.equal(chooseTag(img, list, 2000).tag?.name, chooseTag(img, shuffled, 2000).tag?.name);
    }),
    propertyOptions(),
  );
});

test('property: selection converges — after writing the choice, nothing more is written until the registry changes', () => {
  fc.assert(
    fc.property(specArb, tagListArb, fc.option(tagArb, { nil: undefined }), (s, list, start) => {
      const img = specOf(s);
      let current = start;
      let last: LastWrite | undefined;
      let writes = 0;
      for (let round = 0; round < 4; round++) {
        const t = chooseTag(img, list, 2000).tag;
        if (!t) break;
        const chosen = valueKey(chosenValue(img, t))!;
        const d = decideWrite({ chosen, current, fingerprint: registryFingerprint(t), last });
        if (d.write) {
          writes++;
          current = chosen;
          last = { value: chosen, fingerprint: registryFingerprint(t) };
        }
        // Someone reverts every write: still at most one write for this registry state.
        if (round === 1 && last) current = start;
      }
      assert.ok(writes <= 1, `wrote ${writes} times`);
      // The chosen tag is one of the tags and is allowed.
      const t = chooseTag(img, list, 2000).tag;
      if (t) assert.ok(list.some((x) => x.name === t.name));
    }),
    propertyOptions(),
  );
});

test('.argocd-source files merge into the source as Argo CD does (JSON merge patch, app-specific last)', () => {
  const source = { repoURL: 'r', path: 'p', helm: { valueFiles: ['values-dev.yaml'], parameters: [{ name: 'replicas', value: '2' }] } };
  const merged = withSourceOverrides(source, [
    'helm:\n  parameters:\n  - name: a\n    value: "1"\n',
    helmSourceFile(undefined, [{ name: 'image.tag', value: '1.2.0', forceString: true }]),
    undefined,
  ]);
  assert.deepEqual(merged.helm.valueFiles, ['values-dev.yaml']);
  assert.deepEqual(merged.helm.parameters, [{ name: 'image.tag', value: '1.2.0', forceString: true }]);
  assert.deepEqual(withSourceOverrides(source, ['- not a mapping', ': bad yaml :']), source);
  assert.deepEqual(overrideFileNames('api'), ['.argocd-source.yaml', '.argocd-source-api.yaml']);
});
