// The image activities on a real registry and a real git repository, with the Kubernetes
// API stubbed in memory: the seed's Application (Helm source, semver with the X.Y.Z
// regexp, git write-back) gets exactly one commit for 1.0.1 whatever else is pushed, and
// one more for 1.2.0; write-back `argocd` on a Kustomize source sets the image override on
// the Application; a registry refusing credentials is named for that image only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { createImageActivities, type ApplicationImageCheck } from '../../activities/images/activities';
import { GitRepositories } from '../../activities/git';
import { decideWrite, valueKey } from '../../domain/images/selection';
import type { KubeClient, KubeObject, ResourceRef } from '../../k8s/kube-client';
import { examplesDir } from '../support/paths';
import { ensureGoTemplate } from '../../stack/toolchain';
import { startRegistry, type TestRegistry } from '../support/registry';
import { gitEnv } from '../support/git-fixture';

const env = gitEnv;
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Just the calls the image activities make, over an in-memory object list. */
class MemoryKube {
  objects: KubeObject[] = [];
  patches: unknown[] = [];
  private match = (res: ResourceRef, ns: string | undefined, o: KubeObject) =>
    (o as { __plural?: string }).__plural === res.plural && (ns === undefined || o.metadata.namespace === ns);
  add(plural: string, o: Record<string, any>) {
    this.objects.push({ ...o, __plural: plural } as unknown as KubeObject);
  }
  async find(res: ResourceRef, ns: string, name: string) {
    return structuredClone(this.objects.find((o) => this.match(res, ns, o) && o.metadata.name === name));
  }
  async list(res: ResourceRef, ns: string, opts: { labelSelector?: string } = {}) {
    const items = this.objects.filter(
      (o) => this.match(res, ns, o) && (!opts.labelSelector || Object.keys(o.metadata.labels ?? {}).some((k) => opts.labelSelector!.startsWith(k))),
    );
    return { items: structuredClone(items), resourceVersion: '1' };
  }
  async patch(res: ResourceRef, ns: string, name: string, body: { spec?: Record<string, any>; status?: Record<string, any> }) {
    this.patches.push(body);
    const o = this.objects.find((x) => this.match(res, ns, x) && x.metadata.name === name) as unknown as {
      spec: Record<string, any>;
      status?: Record<string, any>;
    };
    if (body.status) o.status = { ...o.status, ...body.status };
    if (body.spec?.sources)
      o.spec.sources = body.spec.sources; // a merge patch replaces a list whole
    else if (body.spec) o.spec.source = { ...o.spec.source, ...body.spec.source };
    return o;
  }
  async create(_res: ResourceRef, _ns: string, body: unknown) {
    return body;
  }
}

let registry: TestRegistry;
let basic: TestRegistry;
let root: string;
before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
  [registry, basic] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' })]);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-image-act-'));
});
after(async () => {
  await Promise.all([registry?.stop(), basic?.stop()]);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function bareRepo(files: Record<string, string>): { url: string; log: () => string[]; show: (f: string) => string } {
  const bare = path.join(root, `r${Math.random().toString(36).slice(2)}.git`);
  const work = `${bare}.work`;
  git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  git(root, 'init', '-q', '-b', 'main', work);
  for (const [f, t] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
    fs.writeFileSync(path.join(work, f), t);
  }
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'initial');
  git(work, 'push', '-q', bare, 'main');
  return { url: `file://${bare}`, log: () => git(bare, 'log', '--format=%s', 'main').split('\n'), show: (f) => git(bare, 'show', `main:${f}`) };
}

/** The local registries speak plain HTTP: registries.conf says so, as with Image Updater. */
function registriesConfig(kube: MemoryKube, more: Record<string, string> = {}) {
  const conf = [registry, basic].map((r) => `- name: ${r.host}\n  prefix: ${r.host}\n  api_url: ${r.url}\n`).join('');
  kube.add('configmaps', {
    metadata: { name: 'argocd-image-updater-config', namespace: 'argocd' },
    data: { 'registries.conf': `registries:\n${conf}`, ...more },
  });
}

/** One workflow iteration, as workflows/image-update.ts does it. */
async function pass(
  acts: ReturnType<typeof createImageActivities>,
  ref: { namespace: string; name: string },
  last: Record<string, { value: string; fingerprint: string }>,
  at: number,
) {
  const check = (await acts.checkApplicationImages(ref)) as ApplicationImageCheck;
  const writes = check.images.flatMap((i) => {
    const chosen = valueKey(i.chosen);
    if (!chosen || !i.fingerprint || !i.chosen) return [];
    return decideWrite({ chosen, current: i.current, fingerprint: i.fingerprint, last: last[i.alias] }).write
      ? [{ alias: i.alias, ...i.chosen, fp: i.fingerprint, key: chosen }]
      : [];
  });
  if (writes.length > 0) {
    await acts.writeBackImages({
      app: ref,
      updates: writes.map(({ alias, tag, digest }) => ({ alias, tag, ...(digest ? { digest } : {}) })),
      commitTimeMs: at,
    });
    for (const w of writes) last[w.alias] = { value: w.key, fingerprint: w.fp };
  }
  return { check, writes: writes.length };
}

test("the seed's Application: 1.0.1 once, rc and latest ignored, then 1.2.0", async () => {
  const chart = '2232-build-push-git/deploy/helm/api-tester';
  const repo = bareRepo({
    [`${chart}/Chart.yaml`]: 'apiVersion: v2\nname: api-tester\nversion: 0.1.0\n',
    [`${chart}/values-dev.yaml`]: 'image:\n  repository: x\n  tag: 1.0.0\n',
  });
  const app = parse(fs.readFileSync(path.join(examplesDir, 'image-updater', 'image-updater-annotations.yaml'), 'utf8'));
  app.metadata.uid = 'uid-api';
  app.metadata.annotations['argocd-image-updater.argoproj.io/image-list'] = `api-tester=${registry.host}/anotherclass/api-tester`;
  app.spec.source.repoURL = repo.url;
  const kube = new MemoryKube();
  kube.add('applications', app);
  registriesConfig(kube);
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home1')) });
  const ref = { namespace: 'argocd', name: app.metadata.name };
  const last = {};
  await registry.push('anotherclass/api-tester', '1.0.1');
  const first = await pass(acts, ref, last, 1_700_000_000_000);
  assert.deepEqual(first.check.problems, []);
  assert.equal(first.check.images[0]?.error, undefined);
  assert.equal(first.writes, 1);
  await registry.push('anotherclass/api-tester', '1.1.0-rc1');
  await registry.push('anotherclass/api-tester', 'latest');
  const second = await pass(acts, ref, last, 1_700_000_100_000);
  assert.equal(second.writes, 0);
  assert.equal(second.check.images[0]?.current, '1.0.1', 'read back from Git');
  assert.equal(repo.log().length, 2, 'exactly one commit');
  assert.deepEqual(parse(repo.show(`${chart}/.argocd-source-${app.metadata.name}.yaml`)).helm.parameters, [
    { name: 'image.repository', value: `${registry.host}/anotherclass/api-tester`, forcestring: true },
    { name: 'image.tag', value: '1.0.1', forcestring: true },
  ]);
  await registry.push('anotherclass/api-tester', '1.2.0');
  assert.equal((await pass(acts, ref, last, 1_700_000_200_000)).writes, 1);
  assert.equal((await pass(acts, ref, last, 1_700_000_300_000)).writes, 0);
  assert.deepEqual(repo.log(), [`build: automatic update of ${app.metadata.name}`, `build: automatic update of ${app.metadata.name}`, 'initial']);
});

test('write-back argocd on a Kustomize source; a registry refusing the credentials fails that image only', async () => {
  await registry.push('team/web', '2024.01.01');
  await registry.push('team/web', '2024.02.01');
  await basic.push('team/private', '1.0.0');
  const kube = new MemoryKube();
  registriesConfig(kube);
  const P = 'argocd-image-updater.argoproj.io/';
  kube.add('applications', {
    metadata: {
      name: 'web',
      namespace: 'argocd',
      uid: 'uid-web',
      annotations: {
        [`${P}image-list`]: `web=${registry.host}/team/web, private=${basic.host}/team/private`,
        [`${P}web.update-strategy`]: 'name',
        [`${P}web.kustomize.image-name`]: 'nginx',
        [`${P}private.pull-secret`]: 'secret:argocd/reg#creds',
      },
    },
    spec: { source: { repoURL: 'file:///nowhere', path: 'k', kustomize: { images: ['other=x:1'] } } },
  });
  kube.add('secrets', { metadata: { name: 'reg', namespace: 'argocd' }, data: { creds: b64(`${basic.credentials!.username}:wrong-password`) } });
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home2')) });
  const ref = { namespace: 'argocd', name: 'web' };
  const { check, writes } = await pass(acts, ref, {}, 1);
  assert.equal(writes, 1);
  const priv = check.images.find((i) => i.alias === 'private')!;
  assert.match(priv.error ?? '', /refused the credentials/);
  assert.ok(!JSON.stringify(check).includes('wrong-password'), 'no secret in the check result');
  const stored = (await kube.find({ plural: 'applications' } as ResourceRef, 'argocd', 'web')) as unknown as {
    spec: { source: { kustomize: { images: string[] } } };
  };
  assert.deepEqual(stored.spec.source.kustomize.images, ['other=x:1', `nginx=${registry.host}/team/web:2024.02.01`]);
  assert.equal((await pass(acts, ref, {}, 2)).writes, 0, 'read back from the Application');
});

test('an ImageUpdater selects an Application without annotations: checked and written from its settings, its status counts it', async () => {
  await registry.push('team/cr', '1.0.0');
  await registry.push('team/cr', '1.4.0');
  const kube = new MemoryKube();
  registriesConfig(kube);
  kube.add('applications', {
    metadata: { name: 'cr-web', namespace: 'argocd', uid: 'u1', labels: { team: 'a' } },
    spec: { source: { repoURL: 'file:///nowhere', path: 'k', kustomize: {} } },
  });
  kube.add('applications', { metadata: { name: 'cr-other', namespace: 'argocd', uid: 'u2', labels: { team: 'b' } }, spec: { source: { kustomize: {} } } });
  kube.add('imageupdaters', {
    metadata: { name: 'team-a', namespace: 'argocd', generation: 3 },
    spec: {
      applicationRefs: [
        {
          namePattern: 'cr-*',
          labelSelectors: { matchLabels: { team: 'a' } },
          images: [{ alias: 'web', imageName: `${registry.host}/team/cr`, manifestTargets: { kustomize: { name: 'nginx' } } }],
        },
      ],
    },
  });
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home3')) });
  assert.equal(await acts.checkApplicationImages({ namespace: 'argocd', name: 'cr-other' }), null, 'not selected');
  const { check, writes } = await pass(acts, { namespace: 'argocd', name: 'cr-web' }, {}, 1);
  assert.equal(check.imageUpdater, 'team-a');
  assert.equal(writes, 1);
  const stored = (await kube.find({ plural: 'applications' } as ResourceRef, 'argocd', 'cr-web')) as any;
  assert.deepEqual(stored.spec.source.kustomize.images, [`nginx=${registry.host}/team/cr:1.4.0`]);
  await acts.reportImageUpdater({
    app: { namespace: 'argocd', name: 'cr-web' },
    imageUpdater: 'team-a',
    updates: [{ alias: 'web', image: `${registry.host}/team/cr`, newVersion: '1.4.0' }],
    at: '2026-01-01T00:00:00Z',
  });
  const status = ((await kube.find({ plural: 'imageupdaters' } as ResourceRef, 'argocd', 'team-a')) as any).status;
  assert.equal(status.applicationsMatched, 1);
  assert.equal(status.imagesManaged, 1);
  assert.equal(status.lastCheckedAt, '2026-01-01T00:00:00Z');
  assert.equal(status.observedGeneration, 3);
  assert.deepEqual(
    status.recentUpdates.map((u: any) => [u.alias, u.newVersion, u.applicationsUpdated]),
    [['web', '1.4.0', 1]],
  );
  assert.equal(status.conditions[0].type, 'Ready');
});

test('a plain-directory source with git write-back: the marked line read and rewritten; write-back argocd refused as a problem', async () => {
  await registry.push('team/plain', '0.1.0');
  await registry.push('team/plain', '0.2.0');
  const r = bareRepo({ 'plain/cm.yaml': `kind: ConfigMap\ndata:\n  image: ${registry.host}/team/plain:0.1.0 # {"$imagepolicy": "default:plain"}\n` });
  const kube = new MemoryKube();
  registriesConfig(kube);
  const P = 'argocd-image-updater.argoproj.io/';
  for (const [name, method] of [
    ['plain-git', 'git'],
    ['plain-argocd', 'argocd'],
  ])
    kube.add('applications', {
      metadata: {
        name,
        namespace: 'argocd',
        uid: name,
        annotations: { [`${P}image-list`]: `plain=${registry.host}/team/plain`, [`${P}write-back-method`]: method },
      },
      spec: { source: { repoURL: r.url, targetRevision: 'main', path: 'plain', directory: {} } },
    });
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home4')) });
  const { check, writes } = await pass(acts, { namespace: 'argocd', name: 'plain-git' }, {}, 1_700_000_000_000);
  assert.equal(check.images[0]?.current, '0.1.0');
  assert.equal(writes, 1);
  assert.match(r.show('plain/cm.yaml'), new RegExp(`team/plain:0\\.2\\.0 # \\{"\\$imagepolicy": "default:plain"\\}`));
  assert.equal((await pass(acts, { namespace: 'argocd', name: 'plain-git' }, {}, 2)).writes, 0, 'read back from Git');
  const refused = (await acts.checkApplicationImages({ namespace: 'argocd', name: 'plain-argocd' }))!;
  assert.match(refused.problems.map((p) => p.message).join(), /plain-directory source .* needs write-back-method git/);
  assert.deepEqual(refused.images, []);
});

test('an Application that no longer asks for image updates: the check ends it and clears the ImageUpdateError it had', async () => {
  const kube = new MemoryKube();
  kube.add('applications', {
    metadata: { name: 'was-followed', namespace: 'argocd', uid: 'u9' },
    spec: { source: { kustomize: {} } },
    status: { conditions: [{ type: 'ImageUpdateError', message: 'image a: bad' }] },
  });
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home5')) });
  assert.equal(await acts.checkApplicationImages({ namespace: 'argocd', name: 'was-followed' }), null);
  const app = (await kube.find({ plural: 'applications' } as ResourceRef, 'argocd', 'was-followed')) as any;
  assert.equal(app.status.conditions, null);
});

test('spec.sources: each image to its own source (Helm, Kustomize; the ref source skipped), one commit per file, templated messages, env: credentials', async () => {
  await registry.push('team/msweb', '1.0.0');
  await registry.push('team/msweb', '1.1.0');
  await basic.push('team/msside', '2.0.0');
  const repo = bareRepo({
    'charts/web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
    'overlays/prod/kustomization.yaml': 'resources: []\n',
    'values/web.yaml': 'replicas: 1\n',
  });
  const P = 'argocd-image-updater.argoproj.io/';
  const kube = new MemoryKube();
  registriesConfig(kube, {
    'git.commit-message-template':
      'chore({{ .AppName }}): images\n\n{{ range .AppChanges }}- {{ .Image }}: {{ .OldTag | default "none" }} -> {{ .NewTag }}\n{{ end }}',
    'git.user': 'bot',
    'git.email': 'bot@example.com',
  });
  const annotations = {
    [`${P}image-list`]: `web=${registry.host}/team/msweb, side=${basic.host}/team/msside`,
    [`${P}web.helm.image-name`]: 'image.repository',
    [`${P}web.helm.image-tag`]: 'image.tag',
    [`${P}side.kustomize.image-name`]: 'nginx',
    [`${P}side.pull-secret`]: 'env:SLUICE_TEST_REGISTRY_CREDS',
    [`${P}write-back-method`]: 'git',
  };
  const sources = [
    { repoURL: repo.url, ref: 'values', targetRevision: 'main' },
    { repoURL: repo.url, path: 'charts/web', targetRevision: 'main', helm: { valueFiles: ['$values/values/web.yaml'] } },
    { repoURL: repo.url, path: 'overlays/prod', targetRevision: 'main', kustomize: {} },
  ];
  kube.add('applications', { metadata: { name: 'ms', namespace: 'argocd', uid: 'uid-ms', annotations }, spec: { sources } });
  process.env.SLUICE_TEST_REGISTRY_CREDS = `${basic.credentials!.username}:${basic.credentials!.password}`;
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home-ms')) });
  const ref = { namespace: 'argocd', name: 'ms' };
  try {
    // env: credentials only for variables the operator lists.
    delete process.env.SLUICE_IMAGE_CREDENTIAL_ENV;
    const refused = await pass(acts, ref, {}, 1_700_000_000_000);
    assert.match(refused.check.images.find((i) => i.alias === 'side')?.error ?? '', /env:SLUICE_TEST_REGISTRY_CREDS refused: .*SLUICE_IMAGE_CREDENTIAL_ENV/);
    assert.equal(repo.log().length, 2, 'the Helm image was committed alone');
    process.env.SLUICE_IMAGE_CREDENTIAL_ENV = 'OTHER, SLUICE_TEST_REGISTRY_CREDS';
    const last = {};
    const first = await pass(acts, ref, last, 1_700_000_100_000);
    assert.deepEqual(first.check.problems, []);
    assert.deepEqual(
      first.check.images.map((i) => [i.alias, i.current, valueKey(i.chosen), i.error]),
      [
        ['web', '1.1.0', '1.1.0', undefined],
        ['side', undefined, '2.0.0', undefined],
      ],
    );
    assert.ok(!JSON.stringify(first.check).includes(basic.credentials!.password));
    assert.deepEqual(parse(repo.show('charts/web/.argocd-source-ms.yaml')).helm.parameters, [
      { name: 'image.repository', value: `${registry.host}/team/msweb`, forcestring: true },
      { name: 'image.tag', value: '1.1.0', forcestring: true },
    ]);
    assert.deepEqual(parse(repo.show('overlays/prod/.argocd-source-ms.yaml')).kustomize.images, [`nginx=${basic.host}/team/msside:2.0.0`]);
    assert.equal((await pass(acts, ref, last, 1_700_000_200_000)).writes, 0, 'converged: nothing more to write');
    assert.deepEqual(repo.log(), ['chore(ms): images', 'chore(ms): images', 'initial']);
    const bodies = git(repo.url.slice('file://'.length), 'log', '--format=%an <%ae>|%b', 'main', '-2');
    assert.match(bodies, new RegExp(`bot <bot@example.com>\\|- ${basic.host}/team/msside: none -> 2\\.0\\.0`));
    assert.match(bodies, new RegExp(`- ${registry.host}/team/msweb: none -> 1\\.1\\.0`));
  } finally {
    delete process.env.SLUICE_TEST_REGISTRY_CREDS;
    delete process.env.SLUICE_IMAGE_CREDENTIAL_ENV;
  }

  // Write-back argocd: the overrides on each image's source; the ref source untouched.
  const kube2 = new MemoryKube();
  registriesConfig(kube2);
  kube2.add('applications', {
    metadata: {
      name: 'ms2',
      namespace: 'argocd',
      uid: 'uid-ms2',
      annotations: { ...annotations, [`${P}write-back-method`]: 'argocd', [`${P}side.pull-secret`]: 'ext:/bin/creds' },
    },
    spec: { sources: structuredClone(sources) },
  });
  const acts2 = createImageActivities(kube2 as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home-ms2')) });
  const r2 = await pass(acts2, { namespace: 'argocd', name: 'ms2' }, {}, 1);
  assert.match(r2.check.problems.map((p) => `${p.alias}: ${p.message}`).join(), /side: credential reference "ext:\/bin\/creds" is refused: .*run code/);
  const stored = ((await kube2.find({ plural: 'applications' } as ResourceRef, 'argocd', 'ms2')) as any).spec.sources;
  assert.deepEqual(stored[0], sources[0]);
  assert.deepEqual(stored[1].helm.parameters, [
    { name: 'image.repository', value: `${registry.host}/team/msweb`, forceString: true },
    { name: 'image.tag', value: '1.1.0', forceString: true },
  ]);
  assert.deepEqual(stored[1].helm.valueFiles, ['$values/values/web.yaml']);
  assert.equal(stored[2].kustomize.images, undefined, 'the image with ext: credentials is left out');
  assert.equal((await pass(acts2, { namespace: 'argocd', name: 'ms2' }, {}, 2)).writes, 0, 'read back from spec.sources[1]');
});

test('git-repository: a chart from a Helm repository has its .argocd-source file written to the named git repository', async () => {
  await registry.push('team/charted', '3.0.0');
  await registry.push('team/charted', '3.1.0');
  const config = bareRepo({ 'README.md': 'deploy config\n' });
  const kube = new MemoryKube();
  registriesConfig(kube);
  const P = 'argocd-image-updater.argoproj.io/';
  kube.add('applications', {
    metadata: {
      name: 'charted',
      namespace: 'argocd',
      uid: 'charted',
      annotations: {
        [`${P}image-list`]: `web=${registry.host}/team/charted`,
        [`${P}write-back-method`]: 'git',
        [`${P}git-repository`]: config.url,
        [`${P}git-branch`]: 'main',
      },
    },
    spec: { source: { repoURL: 'https://charts.example', chart: 'web', targetRevision: '1.2.0', helm: {} } },
  });
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home-gitrepo')) });
  const { check, writes } = await pass(acts, { namespace: 'argocd', name: 'charted' }, {}, 1_700_000_000_000);
  assert.deepEqual(check.problems, []);
  assert.equal(writes, 1);
  assert.match(config.show('.argocd-source-charted.yaml'), /3\.1\.0/);
  assert.equal(config.log().length, 2, 'one commit beside the initial one');
  assert.equal((await pass(acts, { namespace: 'argocd', name: 'charted' }, {}, 2)).writes, 0, 'read back from the named repository');
});

test('git-branch with a template: each set of changes is pushed to the branch it names, the base branch untouched', async () => {
  await registry.push('team/branched', '1.0.0');
  await registry.push('team/branched', '1.1.0');
  const config = bareRepo({ 'README.md': 'deploy config\n' });
  const bare = config.url.slice('file://'.length);
  const kube = new MemoryKube();
  registriesConfig(kube);
  const P = 'argocd-image-updater.argoproj.io/';
  kube.add('applications', {
    metadata: {
      name: 'branched',
      namespace: 'argocd',
      uid: 'branched',
      annotations: {
        [`${P}image-list`]: `web=${registry.host}/team/branched`,
        [`${P}write-back-method`]: 'git',
        [`${P}git-repository`]: config.url,
        [`${P}git-branch`]: 'main:image-updater{{range .Images}}-{{.Alias}}-{{.NewTag}}{{end}}',
      },
    },
    spec: { source: { repoURL: 'https://charts.example', chart: 'web', targetRevision: '1.2.0', helm: {} } },
  });
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home-gitbranch')) });
  const last = {};
  const first = await pass(acts, { namespace: 'argocd', name: 'branched' }, last, 1_700_000_000_000);
  assert.deepEqual(first.check.problems, []);
  assert.equal(first.writes, 1);
  assert.match(git(bare, 'show', 'image-updater-web-1.1.0:.argocd-source-branched.yaml'), /1\.1\.0/);
  assert.deepEqual(config.log(), ['initial'], 'main is not written to');
  // A retried write of the same change finds the branch holding it: no second commit.
  await acts.writeBackImages({ app: { namespace: 'argocd', name: 'branched' }, updates: [{ alias: 'web', tag: '1.1.0' }], commitTimeMs: 1_700_000_100_000 });
  assert.equal(git(bare, 'log', '--format=%s', 'image-updater-web-1.1.0').split('\n').length, 2);
  await registry.push('team/branched', '1.2.0');
  assert.equal((await pass(acts, { namespace: 'argocd', name: 'branched' }, last, 1_700_000_200_000)).writes, 1);
  assert.match(git(bare, 'show', 'image-updater-web-1.2.0:.argocd-source-branched.yaml'), /1\.2\.0/);

  // A template that renders no usable branch name fails the write, naming the template.
  const app = kube.objects.find((o) => o.metadata.name === 'branched')!;
  app.metadata.annotations![`${P}git-branch`] = 'main:{{range .Images}}..{{end}}';
  await assert.rejects(
    acts.writeBackImages({ app: { namespace: 'argocd', name: 'branched' }, updates: [{ alias: 'web', tag: '1.2.0' }], commitTimeMs: 1_700_000_300_000 }),
    /git-branch template .* not a branch name git accepts/,
  );
});

test("an Application outside the control plane names another namespace's Secret: refused, the registry never asked", async () => {
  await basic.push('team/scoped', '1.0.0');
  const kube = new MemoryKube();
  registriesConfig(kube);
  const P = 'argocd-image-updater.argoproj.io/';
  const appIn = (namespace: string, pullSecret: string) =>
    kube.add('applications', {
      metadata: {
        name: 'scoped',
        namespace,
        uid: `scoped-${namespace}`,
        annotations: { [`${P}image-list`]: `s=${basic.host}/team/scoped`, [`${P}s.pull-secret`]: pullSecret, [`${P}write-back-method`]: 'argocd' },
      },
      spec: { source: { repoURL: 'file:///nowhere', path: 'k', kustomize: {} } },
    });
  const good = b64(`${basic.credentials!.username}:${basic.credentials!.password}`);
  kube.add('secrets', { metadata: { name: 'reg', namespace: 'argocd' }, data: { creds: good } });
  kube.add('secrets', { metadata: { name: 'reg', namespace: 'team-a' }, data: { creds: good } });
  appIn('team-a', 'secret:argocd/reg#creds');
  appIn('team-b', 'secret:team-a/reg#creds');
  appIn('team-c', 'secret:team-c/none#creds');
  const acts = createImageActivities(kube as unknown as KubeClient, { git: new GitRepositories(path.join(root, 'home-scoped')) });
  for (const [namespace, other] of [
    ['team-a', 'argocd'],
    ['team-b', 'team-a'],
  ]) {
    const { check, writes } = await pass(acts, { namespace, name: 'scoped' }, {}, 1);
    assert.equal(writes, 0);
    assert.match(check.images[0]!.error ?? '', new RegExp(`Secret ${other}/reg refused: credentials for an Application in namespace ${namespace}`));
  }
  // Its own namespace is read (here the Secret is missing, which says so).
  assert.match((await pass(acts, { namespace: 'team-c', name: 'scoped' }, {}, 1)).check.images[0]!.error ?? '', /Secret team-c\/none not found/);
});
