// The ImageUpdater resource: which Applications its applicationRefs select (name glob,
// label selectors, first entry wins, first resource by name wins), the annotation form its
// settings translate to (spec, then applicationRef, then image, per field), useAnnotations,
// and recentUpdates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annotationsFor, imageUpdaterFor, matchingRef, withRecentUpdates, type ImageUpdaterSpec } from '../../domain/images/image-updater';
import { imageUpdateConfig } from '../../domain/images/annotations';

const P = 'argocd-image-updater.argoproj.io/';
const spec: ImageUpdaterSpec = {
  commonUpdateSettings: { updateStrategy: 'newest-build', ignoreTags: ['latest'] },
  writeBackConfig: { method: 'git', gitConfig: { repository: 'https://git.example/team/deploy.git', branch: 'main', writeBackTarget: 'kustomization' } },
  applicationRefs: [
    {
      namePattern: 'web-*',
      labelSelectors: { matchLabels: { team: 'a' } },
      commonUpdateSettings: { updateStrategy: 'semver', allowTags: '^[0-9.]+$' },
      images: [
        { alias: 'web', imageName: 'reg.example/team/web:1.x', manifestTargets: { kustomize: { name: 'nginx' } } },
        {
          alias: 'side',
          imageName: 'reg.example/team/side:stable',
          commonUpdateSettings: { updateStrategy: 'digest', platforms: ['linux/arm64'] },
          manifestTargets: { helm: { name: 'side.repo', tag: 'side.tag' } },
        },
      ],
    },
    { namePattern: 'web-*', writeBackConfig: { method: 'argocd' }, images: [{ alias: 'other', imageName: 'reg.example/other' }] },
    { namePattern: 'legacy-?', useAnnotations: true },
  ],
};

test('applicationRefs: the name glob and label selectors, the first matching entry wins', () => {
  assert.equal(matchingRef(spec, { name: 'web-dev', labels: { team: 'a' } }), spec.applicationRefs![0]);
  assert.equal(matchingRef(spec, { name: 'web-dev', labels: { team: 'b' } }), spec.applicationRefs![1]);
  assert.equal(matchingRef(spec, { name: 'api-dev', labels: { team: 'a' } }), undefined);
  assert.equal(matchingRef(spec, { name: 'legacy-1' }), spec.applicationRefs![2]);
  assert.equal(matchingRef(spec, { name: 'legacy-12' }), undefined, '? is one character');
  const bad: ImageUpdaterSpec = {
    applicationRefs: [{ namePattern: '*', labelSelectors: { matchExpressions: [{ key: 'x', operator: 'Bogus' }] }, images: [] }],
  };
  assert.equal(matchingRef(bad, { name: 'a' }), undefined, 'an invalid selector selects nothing');
});

test('settings merge per field (spec, ref, image) into the annotation form, which parses with no problem', () => {
  const a = annotationsFor(spec, { name: 'web-dev', labels: { team: 'a' } })!;
  assert.deepEqual(a, {
    [`${P}image-list`]: 'web=reg.example/team/web:1.x, side=reg.example/team/side:stable',
    [`${P}web.update-strategy`]: 'semver',
    [`${P}web.allow-tags`]: 'regexp:^[0-9.]+$',
    [`${P}web.ignore-tags`]: 'latest',
    [`${P}web.kustomize.image-name`]: 'nginx',
    [`${P}side.update-strategy`]: 'digest',
    [`${P}side.allow-tags`]: 'regexp:^[0-9.]+$',
    [`${P}side.ignore-tags`]: 'latest',
    [`${P}side.platforms`]: 'linux/arm64',
    [`${P}side.helm.image-name`]: 'side.repo',
    [`${P}side.helm.image-tag`]: 'side.tag',
    [`${P}write-back-method`]: 'git',
    [`${P}git-repository`]: 'https://git.example/team/deploy.git',
    [`${P}git-branch`]: 'main',
    [`${P}write-back-target`]: 'kustomization',
  });
  const cfg = imageUpdateConfig(a)!;
  assert.deepEqual(cfg.problems, []);
  assert.deepEqual(
    cfg.images.map((i) => [i.alias, i.strategy, i.constraint]),
    [
      ['web', 'semver', '1.x'],
      ['side', 'digest', 'stable'],
    ],
  );
  assert.equal(cfg.writeBack.method, 'git');
  assert.equal(cfg.writeBack.method === 'git' && cfg.writeBack.repository, 'https://git.example/team/deploy.git');
  // The ref's own writeBackConfig wins over the spec's.
  assert.equal(annotationsFor(spec, { name: 'web-dev' })![`${P}write-back-method`], 'argocd');
});

test("useAnnotations: the Application's own Image Updater annotations, nothing else", () => {
  const own = { [`${P}image-list`]: 'x=reg.example/x', [`${P}x.update-strategy`]: 'alphabetical', 'other/annotation': 'y' };
  assert.deepEqual(annotationsFor(spec, { name: 'legacy-1', annotations: own }), {
    [`${P}image-list`]: 'x=reg.example/x',
    [`${P}x.update-strategy`]: 'alphabetical',
  });
});

test('of several ImageUpdaters, the first by name selecting the Application', () => {
  const one: ImageUpdaterSpec = { applicationRefs: [{ namePattern: '*', images: [{ alias: 'a', imageName: 'reg.example/a' }] }] };
  const found = imageUpdaterFor(
    [
      { name: 'zz', spec: one },
      { name: 'aa', spec },
    ],
    { name: 'web-dev', labels: { team: 'a' } },
  );
  assert.equal(found?.name, 'aa');
  assert.equal(imageUpdaterFor([{ name: 'zz', spec: one }], { name: 'anything' })?.name, 'zz');
  assert.equal(imageUpdaterFor([], { name: 'anything' }), undefined);
});

test('recentUpdates: newest first, one entry per image and version counting Applications, at most 20', () => {
  const u = (v: string, at = 't') => ({ alias: 'web', image: 'reg/web', newVersion: v, applicationsUpdated: 1, updatedAt: at });
  let r = withRecentUpdates(undefined, [u('1.0.0')]);
  r = withRecentUpdates(r, [u('1.1.0')]);
  r = withRecentUpdates(r, [u('1.0.0', 't2')]);
  assert.deepEqual(
    r.map((x) => [x.newVersion, x.applicationsUpdated, x.updatedAt]),
    [
      ['1.0.0', 2, 't2'],
      ['1.1.0', 1, 't'],
    ],
  );
  for (let i = 0; i < 30; i++) r = withRecentUpdates(r, [u(`2.0.${i}`)]);
  assert.equal(r.length, 20);
  assert.equal(r[0]!.newVersion, '2.0.29');
});
