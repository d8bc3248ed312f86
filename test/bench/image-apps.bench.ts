// Benchmark (prints figures; not a pass/fail test): one full image check pass over N
// Applications (default 500) on a stack's kube-apiserver, each following its own image with T
// tags (default 200) in a local docker-registry: semver with the X.Y.Z allow-tags regexp,
// Kustomize source, write-back argocd. The check is the image workflow's activity
// (checkApplicationImages: reads the Application, registries.conf, the write-back target, the
// registry). Registry requests are counted by a counting proxy in front of the registry, so
// every request the activities make is seen. Passes: cold, then nothing changed; beside them
// the minimum (one tag list per image) measured through the same proxy in the same run.
//   node dist/test/bench/image-apps.bench.js   (SLUICE_BENCH_APPS=50 SLUICE_BENCH_TAGS=50 for a quick run)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { createImageActivities } from '../../activities/images/activities';
import { Resources } from '../../k8s/kube-client';
import { startRegistry, freePort } from '../support/registry';
import { benchStack, inBatches } from './bench-support';

const N = Number(process.env.SLUICE_BENCH_APPS ?? 500);
const T = Number(process.env.SLUICE_BENCH_TAGS ?? 200);
const P = 'argocd-image-updater.argoproj.io/';

/**
 * More tags for a manifest already pushed, written as docker-registry's filesystem storage
 * keeps them (a tag is a link file naming the digest): what 200 manifest PUTs per image
 * would leave, in a fraction of the time (100k PUTs take long on a shared machine).
 * SLUICE_BENCH_SEED=http pushes them through the HTTP API instead.
 */
function tagInStorage(storageDir: string, repo: string, digest: string, tags: string[]): void {
  const base = path.join(storageDir, 'docker', 'registry', 'v2', 'repositories', repo, '_manifests', 'tags');
  const hex = digest.replace(/^sha256:/, '');
  for (const t of tags) {
    fs.mkdirSync(path.join(base, t, 'current'), { recursive: true });
    fs.writeFileSync(path.join(base, t, 'current', 'link'), digest);
    fs.mkdirSync(path.join(base, t, 'index', 'sha256', hex), { recursive: true });
    fs.writeFileSync(path.join(base, t, 'index', 'sha256', hex, 'link'), digest);
  }
}

async function main() {
  const registry = await startRegistry();
  // A counting proxy: the activities reach the registry only through it.
  let requests = 0;
  const target = new URL(registry.url);
  const proxy = http.createServer((req, res) => {
    requests++;
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  const proxyPort = await freePort();
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
  const host = `127.0.0.1:${proxyPort}`;
  const bench = await benchStack();
  try {
    const kube = bench.stack.kube;
    const ns = 'image-bench';
    await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.create(Resources.configMap, ns, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-image-updater-config', namespace: ns },
      data: { 'registries.conf': `registries:\n- name: bench\n  prefix: ${host}\n  api_url: http://${host}\n` },
    });

    const seedStart = Date.now();
    const tags = Array.from({ length: T }, (_, i) => `${Math.floor(i / 100)}.${Math.floor(i / 10) % 10}.${i % 10}`);
    await inBatches(
      Array.from({ length: N }, (_, i) => i),
      8,
      async (i) => {
        const digest = await registry.push(`bench/app-${i}`, tags[0]!);
        const more = [...tags.slice(1), 'latest', '9.9.9-rc1'];
        if (process.env.SLUICE_BENCH_SEED === 'http') await registry.retag(`bench/app-${i}`, tags[0]!, more);
        else tagInStorage(registry.storageDir, `bench/app-${i}`, digest, more);
      },
    );
    await inBatches(
      Array.from({ length: N }, (_, i) => i),
      16,
      (i) =>
        kube.create(Resources.application, ns, {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: {
            name: `app-${i}`,
            namespace: ns,
            annotations: {
              [`${P}image-list`]: `a=${host}/bench/app-${i}`,
              [`${P}a.allow-tags`]: 'regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$',
              [`${P}a.kustomize.image-name`]: 'nginx',
            },
          },
          spec: {
            project: 'default',
            source: { repoURL: 'https://example.invalid/repo.git', targetRevision: 'HEAD', path: '.', kustomize: {} },
            destination: { server: 'https://kubernetes.default.svc', namespace: ns },
          },
        }),
    );
    console.log(`seeded ${N} images × ${T + 2} tags and ${N} Applications in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const activities = createImageActivities(kube);
    const pass = async (label: string) => {
      const before = requests;
      const started = Date.now();
      let chosen = 0;
      let errors = 0;
      await inBatches(
        Array.from({ length: N }, (_, i) => i),
        16,
        async (i) => {
          const r = await activities.checkApplicationImages({ namespace: ns, name: `app-${i}` });
          if (r?.images[0]?.chosen?.tag === tags[T - 1]) chosen++;
          if (r?.images[0]?.error || (r?.problems.length ?? 0) > 0) errors++;
        },
      );
      const n = requests - before;
      const ms = Date.now() - started;
      console.log(
        `${label}: ${N} Applications in ${(ms / 1000).toFixed(2)} s (${(ms / N).toFixed(1)} ms/app), ${n} registry requests = ${(n / N).toFixed(3)} per image; ${chosen} chose ${tags[T - 1]}, ${errors} with errors`,
      );
      return n;
    };
    await pass('cold pass');
    const quiet = await pass('nothing changed');
    const before = requests;
    const mStart = Date.now();
    await inBatches(
      Array.from({ length: N }, (_, i) => i),
      16,
      async (i) => {
        const r = await fetch(`http://${host}/v2/bench/app-${i}/tags/list`);
        await r.arrayBuffer();
      },
    );
    const min = requests - before;
    console.log(`minimum (one tag list per image): ${min} requests for ${N} images in ${((Date.now() - mStart) / 1000).toFixed(2)} s`);
    console.log(`nothing-changed pass / minimum: ${(quiet / min).toFixed(3)}× (target ≤ 1.1×)`);
  } finally {
    await bench.stop();
    proxy.close();
    await registry.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
