// The ApplicationSet activities against an in-memory API server and a real local git
// repository: generate from git, plan, apply, delete only what the ApplicationSet controls,
// and nothing at all when the repository is gone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApplicationSetActivities } from '../../activities/applicationsets';
import { GitRepositories } from '../../activities/git';
import { applyMergePatch } from '../../domain/applicationsets/merge-patch';
import type { KubeClient, KubeObject, ResourceRef } from '../../k8s/kube-client';
import { KubeApiError } from '../../k8s/kube-client';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { fixtureRoutes, startScmServer } from '../support/scm-server';

/** Just enough of an API server: objects by plural/namespace/name; merge and JSON patches. */
class MemoryKube {
  readonly objects = new Map<string, KubeObject>();
  private rv = 1;
  private key = (res: ResourceRef, ns: string | undefined, name: string) => `${res.plural}/${ns ?? ''}/${name}`;
  async find(res: ResourceRef, ns: string | undefined, name: string) {
    return structuredClone(this.objects.get(this.key(res, ns, name)));
  }
  async get(res: ResourceRef, ns: string | undefined, name: string) {
    const o = await this.find(res, ns, name);
    if (!o) throw new KubeApiError(404, 'NotFound', 'not found');
    return o;
  }
  async list(res: ResourceRef, ns?: string, opts: { labelSelector?: string } = {}) {
    const [k, v] = (opts.labelSelector ?? '').split('=');
    const items = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${res.plural}/${ns === undefined ? '' : `${ns}/`}`))
      .map(([, o]) => structuredClone(o))
      .filter((o) => !k || o.metadata.labels?.[k!] === v);
    return { items, resourceVersion: String(this.rv) };
  }
  async create(res: ResourceRef, ns: string | undefined, body: KubeObject) {
    const key = this.key(res, ns, body.metadata.name);
    if (this.objects.has(key)) throw new KubeApiError(409, 'AlreadyExists', 'exists');
    this.objects.set(key, {
      ...structuredClone(body),
      metadata: { ...structuredClone(body.metadata), uid: `uid-${body.metadata.name}`, resourceVersion: String(++this.rv) },
    });
    return this.objects.get(key)!;
  }
  async patch(res: ResourceRef, ns: string | undefined, name: string, body: any, opts: { type?: string } = {}) {
    const key = this.key(res, ns, name);
    const o = this.objects.get(key);
    if (!o) throw new KubeApiError(404, 'NotFound', 'not found');
    let next: KubeObject;
    if (opts.type === 'json') {
      next = structuredClone(o);
      for (const op of body) if (op.path === '/metadata/ownerReferences') next.metadata.ownerReferences = op.value;
    } else next = applyMergePatch(o, body) as KubeObject;
    this.objects.set(key, next);
    return next;
  }
  async delete(res: ResourceRef, ns: string | undefined, name: string) {
    return this.objects.delete(this.key(res, ns, name));
  }
}

const Res = {
  applicationSet: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applicationsets', namespaced: true },
  application: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespaced: true },
};

let repo: GitFixture;
let home: string;
before(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-appset-home-'));
  process.env.SLUICE_HOME = home;
  repo = examplesRepo();
});
after(() => {
  repo.remove();
  fs.rmSync(home, { recursive: true, force: true });
});

test('generate from git, apply, a new directory adds, a removed one deletes; the repository gone changes nothing', async () => {
  const kube = new MemoryKube();
  const acts = createApplicationSetActivities(kube as unknown as KubeClient, {
    repos: new GitRepositories(),
    clusters: { known: async () => [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }] } as never,
  });
  const ref = { namespace: 'argocd', name: 'monorepo-apps' };
  await kube.create(Res.applicationSet as ResourceRef, 'argocd', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'monorepo-apps', namespace: 'argocd', annotations: { 'argocd.argoproj.io/application-set-refresh': 'true' } },
    spec: {
      generators: [{ git: { repoURL: repo.url, revision: 'HEAD', directories: [{ path: 'apps/*' }] } }],
      template: {
        metadata: { name: '{{path.basename}}' },
        spec: {
          project: 'default',
          source: { repoURL: repo.url, path: '{{path}}' },
          destination: { server: 'https://kubernetes.default.svc', namespace: '{{path.basename}}' },
        },
      },
    },
  });
  // A hand-made Application of another name is never touched.
  await kube.create(Res.application as ResourceRef, 'argocd', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'handmade', namespace: 'argocd' },
    spec: {},
  });
  const pass = async () => {
    const p = await acts.appSetPass({ ref });
    await acts.appSetApply({ ref, create: p.plan!.create, update: p.plan!.update });
    for (const name of p.plan!.delete) await acts.appSetDeleteApplication({ ref, name, appSetUid: p.uid });
    return p;
  };
  const apps = async () => (await kube.list(Res.application as ResourceRef, 'argocd')).items.map((a) => a.metadata.name).sort();

  const first = await pass();
  assert.equal((first.outcome as { generated: number }).generated, 3, JSON.stringify(first.outcome));
  assert.deepEqual(await apps(), ['backend', 'database', 'frontend', 'handmade']);
  assert.equal(
    (await kube.find(Res.applicationSet as ResourceRef, 'argocd', 'monorepo-apps'))!.metadata.annotations?.['argocd.argoproj.io/application-set-refresh'],
    undefined,
  );
  const again = await acts.appSetPass({ ref });
  assert.deepEqual([again.plan!.create.length, again.plan!.update.length, again.plan!.delete.length], [0, 0, 0]);

  repo.commit('cache in, database out', { 'apps/cache/deployment.yaml': 'kind: Deployment\n', 'apps/database/deployment.yaml': null });
  await pass();
  assert.deepEqual(await apps(), ['backend', 'cache', 'frontend', 'handmade']);

  fs.renameSync(repo.dir, `${repo.dir}.away`);
  try {
    const failed = await pass();
    assert.ok('error' in failed.outcome!);
    assert.match((failed.outcome as { error: string }).error, /generators\[0\] \(git\)/);
    assert.deepEqual(await apps(), ['backend', 'cache', 'frontend', 'handmade']);
  } finally {
    fs.renameSync(`${repo.dir}.away`, repo.dir);
  }
  // Deleting by name refuses an Application the ApplicationSet does not control.
  assert.deepEqual(await acts.appSetDeleteApplication({ ref, name: 'handmade' }), { deleted: false });
});

test('plugin generator against a real HTTP plugin service: token from the Secret, parameters into Applications; the plugin down deletes nothing', async () => {
  const kube = new MemoryKube();
  const acts = createApplicationSetActivities(kube as unknown as KubeClient, {
    repos: new GitRepositories(),
    clusters: { known: async () => [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }] } as never,
  });
  const requests: { auth?: string; body: any }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ auth: req.headers.authorization, body: JSON.parse(body) });
      if (req.url !== '/api/v1/getparams.execute') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ output: { parameters: [{ env: 'dev' }, { env: 'prod' }] } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'plugin', namespace: 'argocd' },
      data: { baseUrl: `http://127.0.0.1:${port}`, token: '$plugin-token:token' },
    };
    await kube.create({ group: '', version: 'v1', plural: 'configmaps', namespaced: true }, 'argocd', cm);
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'plugin-token', namespace: 'argocd' },
      data: { token: Buffer.from('tok').toString('base64') },
    };
    await kube.create({ group: '', version: 'v1', plural: 'secrets', namespaced: true }, 'argocd', secret);
    await kube.create(Res.applicationSet as ResourceRef, 'argocd', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: { name: 'from-plugin', namespace: 'argocd' },
      spec: {
        generators: [{ plugin: { configMapRef: { name: 'plugin' }, input: { parameters: { team: 'a' } } } }],
        template: {
          metadata: { name: 'p-{{env}}' },
          spec: { project: 'default', source: { repoURL: 'r', path: '.' }, destination: { server: 'https://kubernetes.default.svc', namespace: '{{env}}' } },
        },
      },
    });
    const ref = { namespace: 'argocd', name: 'from-plugin' };
    const p = await acts.appSetPass({ ref });
    assert.deepEqual(
      p.plan!.create.map((c) => c.metadata.name),
      ['p-dev', 'p-prod'],
    );
    assert.deepEqual(requests[0], { auth: 'Bearer tok', body: { applicationSetName: 'from-plugin', input: { parameters: { team: 'a' } } } });
    await acts.appSetApply({ ref, create: p.plan!.create, update: [] });
    server.close();
    server.closeAllConnections();
    const down = await acts.appSetPass({ ref });
    assert.ok('error' in down.outcome! && /generators\[0\] \(plugin\): error listing params/.test(down.outcome.error), JSON.stringify(down.outcome));
    assert.deepEqual([down.plan!.create.length, down.plan!.update.length, down.plan!.delete.length], [0, 0, 0]);
  } finally {
    server.close();
  }
});

test('scmProvider against a local GitHub stand-in: a pass creates one Application per repository; the API failing deletes nothing', async () => {
  const kube = new MemoryKube();
  const acts = createApplicationSetActivities(kube as unknown as KubeClient, {
    repos: new GitRepositories(),
    clusters: { known: async () => [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }] } as never,
  });
  const scm = await startScmServer(fixtureRoutes);
  try {
    await kube.create(Res.applicationSet as ResourceRef, 'argocd', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: { name: 'org-repos', namespace: 'argocd' },
      spec: {
        generators: [{ scmProvider: { cloneProtocol: 'https', github: { organization: 'acme', api: `${scm.base}/gh` } } }],
        template: {
          metadata: { name: '{{repository}}' },
          spec: {
            project: 'default',
            source: { repoURL: '{{url}}', targetRevision: '{{sha}}', path: '.' },
            destination: { server: 'https://kubernetes.default.svc', namespace: 'x' },
          },
        },
      },
    });
    const ref = { namespace: 'argocd', name: 'org-repos' };
    const p = await acts.appSetPass({ ref });
    assert.deepEqual(
      p.plan!.create.map((c) => [c.metadata.name, (c.spec as any).source.repoURL, (c.spec as any).source.targetRevision]),
      [
        ['svc-a', 'https://github.example/acme/svc-a.git', 'a1b2c3d4e5f60718293a'],
        ['svc-b', 'https://github.example/acme/svc-b.git', 'c0ffee'],
      ],
    );
    assert.equal(p.outcome!.requeueAfterSeconds, 1800);
    await acts.appSetApply({ ref, create: p.plan!.create, update: [] });
    scm.failWith = 502;
    const down = await acts.appSetPass({ ref });
    assert.ok('error' in down.outcome! && /generators\[0\] \(scmProvider\): error listing repos/.test(down.outcome.error), JSON.stringify(down.outcome));
    assert.deepEqual([down.plan!.create.length, down.plan!.update.length, down.plan!.delete.length], [0, 0, 0]);
  } finally {
    await scm.close();
  }
});

test('RollingSync asks an Application to sync once: a retry after its operation started does not ask again', async () => {
  const kube = new MemoryKube();
  const acts = createApplicationSetActivities(kube as unknown as KubeClient, { clusters: { known: async () => [] } as never });
  const ref = { namespace: 'argocd', name: 'rolling' };
  await kube.create(Res.application as ResourceRef, 'argocd', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'rs-dev' },
    spec: {},
  });
  const operation = { sync: { prune: true } };
  const requestedAt = '2026-01-01T10:00:00.000Z';
  assert.equal(await acts.appSetSyncApplication({ ref, name: 'rs-dev', operation, requestedAt }), true);
  // Asked and not yet taken: asking again changes nothing.
  assert.equal(await acts.appSetSyncApplication({ ref, name: 'rs-dev', operation, requestedAt }), false);
  // Taken, started after the request, and cleared (the controller's work): a retried activity must not ask again.
  await kube.patch(Res.application as ResourceRef, 'argocd', 'rs-dev', {
    operation: null,
    status: { operationState: { phase: 'Running', startedAt: '2026-01-01T10:00:01.500Z' } },
  });
  assert.equal(await acts.appSetSyncApplication({ ref, name: 'rs-dev', operation, requestedAt }), false);
  assert.equal((await kube.find(Res.application as ResourceRef, 'argocd', 'rs-dev'))!.operation, undefined);
  // A later request (a new change) is asked for.
  assert.equal(await acts.appSetSyncApplication({ ref, name: 'rs-dev', operation, requestedAt: '2026-01-01T11:00:00.000Z' }), true);
});

test('a status write that would change nothing since the pass read the ApplicationSet is skipped', async () => {
  const kube = new MemoryKube();
  let patches = 0;
  const patch = kube.patch.bind(kube);
  kube.patch = async (...args: Parameters<MemoryKube['patch']>) => (patches++, patch(...args));
  const acts = createApplicationSetActivities(kube as unknown as KubeClient, { clusters: { known: async () => [] } as never });
  const ref = { namespace: 'argocd', name: 'listed' };
  await kube.create(Res.applicationSet as ResourceRef, 'argocd', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'listed', namespace: 'argocd' },
    spec: { generators: [{ list: { elements: [] } }], template: { metadata: { name: 'x' }, spec: {} } },
  });
  const status = { conditions: [{ type: 'ErrorOccurred', status: 'False' }], resources: [{ name: 'a', kind: 'Application' }] };
  // No pass read yet (a new process): written.
  await acts.appSetWriteStatus({ ref, status });
  assert.equal(patches, 1);
  await acts.appSetPass({ ref });
  const afterPass = patches;
  await acts.appSetWriteStatus({ ref, status: structuredClone(status) });
  assert.equal(patches, afterPass, 'unchanged: not written');
  await acts.appSetWriteStatus({ ref, status: { ...status, resources: [] } });
  assert.equal(patches, afterPass + 1, 'changed: written');
  assert.deepEqual((await kube.find(Res.applicationSet as ResourceRef, 'argocd', 'listed'))!.status, { ...status, resources: [] });
  // The same again in the same pass: skipped, the object already says so.
  await acts.appSetWriteStatus({ ref, status: { ...status, resources: [] } });
  assert.equal(patches, afterPass + 1);
});
