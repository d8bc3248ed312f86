// Benchmark (prints figures; not a pass/fail test): image checks against a local
// docker-registry. N images (default 500) with T tags each (default 200) followed with
// semver and the X.Y.Z allow-tags regexp, plus M images (default 20) with T distinctly built
// tags followed with newest-build. One cold pass, then a pass where nothing changed: time and
// registry requests per image, beside the minimum (one tag list per image) in the same run.
//   node dist/test/bench/image-check.bench.js   (SLUICE_BENCH_IMAGES=50 SLUICE_BENCH_TAGS=50 for a quick run)
import { imageUpdateConfig } from '../../domain/images/annotations';
import { RegistryClient } from '../../activities/images/registry-client';
import { checkImage } from '../../activities/images/tags';
import { startRegistry } from '../support/registry';
import { inBatches } from './bench-support';

const N = Number(process.env.SLUICE_BENCH_IMAGES ?? 500);
const T = Number(process.env.SLUICE_BENCH_TAGS ?? 200);
const M = Number(process.env.SLUICE_BENCH_NEWEST ?? 20);
const P = 'argocd-image-updater.argoproj.io/';

async function main() {
  const registry = await startRegistry();
  try {
    const seedStart = Date.now();
    const tags = Array.from({ length: T }, (_, i) => `${Math.floor(i / 100)}.${Math.floor(i / 10) % 10}.${i % 10}`);
    await inBatches(
      Array.from({ length: N }, (_, i) => i),
      8,
      async (i) => {
        await registry.push(`bench/semver-${i}`, tags[0]!);
        await registry.retag(`bench/semver-${i}`, tags[0]!, [...tags.slice(1), 'latest', '9.9.9-rc1']);
      },
    );
    await inBatches(
      Array.from({ length: M }, (_, i) => i),
      4,
      async (i) => {
        for (const [j, t] of tags.entries())
          await registry.push(`bench/newest-${i}`, t, { created: new Date(Date.UTC(2024, 0, 1) + j * 60_000).toISOString() });
      },
    );
    console.log(`seeded ${N} semver images × ${T + 2} tags and ${M} newest-build images × ${T} tags in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const semver = (i: number) =>
      imageUpdateConfig({ [`${P}image-list`]: `a=${registry.host}/bench/semver-${i}`, [`${P}a.allow-tags`]: 'regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$' })!.images[0]!;
    const newest = (i: number) =>
      imageUpdateConfig({ [`${P}image-list`]: `a=${registry.host}/bench/newest-${i}`, [`${P}a.update-strategy`]: 'newest-build' })!.images[0]!;
    const client = new RegistryClient({ apiUrl: registry.url });
    const minimum = new RegistryClient({ apiUrl: registry.url });

    const pass = async (label: string) => {
      const before = client.requests;
      const started = Date.now();
      await inBatches(
        Array.from({ length: N }, (_, i) => i),
        16,
        (i) => checkImage(client, registry.url, `bench/semver-${i}`, semver(i), Date.now()),
      );
      const semverRequests = client.requests - before;
      const semverMs = Date.now() - started;
      const b2 = client.requests;
      const s2 = Date.now();
      await inBatches(
        Array.from({ length: M }, (_, i) => i),
        4,
        (i) => checkImage(client, registry.url, `bench/newest-${i}`, newest(i), Date.now()),
      );
      const newestRequests = client.requests - b2;
      console.log(
        `${label}: semver ${N} images in ${(semverMs / 1000).toFixed(2)} s, ${(semverRequests / N).toFixed(2)} requests/image; newest-build ${M} images in ${((Date.now() - s2) / 1000).toFixed(2)} s, ${(newestRequests / Math.max(M, 1)).toFixed(2)} requests/image`,
      );
      return { semverRequests, newestRequests };
    };
    await pass('cold pass');
    const quiet = await pass('nothing changed');
    const mStart = Date.now();
    await inBatches(
      Array.from({ length: N }, (_, i) => i),
      16,
      (i) => minimum.tags(`bench/semver-${i}`),
    );
    for (let i = 0; i < M; i++) await minimum.tags(`bench/newest-${i}`);
    const min = minimum.requests;
    console.log(`minimum (one tag list per image): ${min} requests for ${N + M} images in ${((Date.now() - mStart) / 1000).toFixed(2)} s`);
    const ratio = (quiet.semverRequests + quiet.newestRequests) / min;
    console.log(`nothing-changed pass / minimum: ${ratio.toFixed(3)}× (target ≤ 1.1×)`);
  } finally {
    await registry.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
