// The registry client and the per-image check against a real docker-registry started here:
// anonymous, Basic (htpasswd) and Bearer (a local token service) auth, Link pagination,
// OCI manifests and indexes with platforms, build times from the config blob, and requests
// counted so the per-digest memory is visible.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { imageUpdateConfig } from '../../domain/images/annotations';
import { parseRegistries, registryFor } from '../../domain/images/registries';
import { parseImageReference } from '../../domain/images/reference';
import { RegistryClient, RegistryError } from '../../activities/images/registry-client';
import { checkImage } from '../../activities/images/tags';
import { startRegistry, type TestRegistry } from '../support/registry';

const P = 'argocd-image-updater.argoproj.io/';
let open: TestRegistry;
let basic: TestRegistry;
let token: TestRegistry;

before(async () => {
  [open, basic, token] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
});
after(async () => {
  await Promise.all([open?.stop(), basic?.stop(), token?.stop()]);
});

test('tags with Link pagination, semver check with the X.Y.Z regexp: only the tag list is read', async () => {
  for (const t of ['1.0.0', '1.0.1', '1.1.0-rc1', 'latest', '0.9.0']) await open.push('team/api', t);
  const client = new RegistryClient({ apiUrl: open.url });
  await client.ping();
  assert.deepEqual([...(await client.tags('team/api'))].sort(), ['0.9.0', '1.0.0', '1.0.1', '1.1.0-rc1', 'latest']);
  const spec = imageUpdateConfig({ [`${P}image-list`]: `api=${open.host}/team/api`, [`${P}api.allow-tags`]: 'regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$' })!.images[0]!;
  const c2 = new RegistryClient({ apiUrl: open.url });
  const choice = await checkImage(c2, open.url, 'team/api', spec, Date.now());
  assert.equal(choice.tag?.name, '1.0.1');
  assert.equal(c2.requests, 1);
});

test('newest-build reads each candidate config once; a second pass reads only the tag list', async () => {
  await open.push('team/nb', 'a', { created: '2024-01-01T00:00:00Z' });
  await open.push('team/nb', 'b', { created: '2024-03-01T00:00:00Z', platforms: ['linux/amd64', 'linux/arm64/v8'] });
  await open.push('team/nb', 'c', { created: '2024-02-01T00:00:00Z' });
  await open.push('team/nb', 'd', { created: '2025-01-01T00:00:00Z', platforms: ['linux/s390x', 'linux/arm64'] });
  const spec = imageUpdateConfig({ [`${P}image-list`]: `x=${open.host}/team/nb`, [`${P}x.update-strategy`]: 'latest' })!.images[0]!;
  const client = new RegistryClient({ apiUrl: open.url });
  const first = await checkImage(client, open.url, 'team/nb', spec, Date.now());
  // d is newest but has no linux/amd64 image, so it has no build time for this platform and is no candidate.
  assert.equal(first.tag?.name, 'b');
  assert.equal(first.candidates, 3);
  const afterFirst = client.requests;
  const second = await checkImage(client, open.url, 'team/nb', spec, Date.now());
  assert.equal(second.tag?.name, 'b');
  assert.equal(client.requests - afterFirst, 1);
  const arm = imageUpdateConfig({
    [`${P}image-list`]: `x=${open.host}/team/nb`,
    [`${P}x.update-strategy`]: 'newest-build',
    [`${P}x.platforms`]: 'linux/arm64',
  })!.images[0]!;
  assert.equal((await checkImage(new RegistryClient({ apiUrl: open.url }), open.url, 'team/nb', arm, Date.now())).tag?.name, 'd');
});

test('tagsortmode: newest-build takes its order from a tag list in push order, reading no build time', async () => {
  // Build times say m is newest; the list's order is the registry's (whatever it is).
  await open.push('team/sorted', 'k', { created: '2024-01-01T00:00:00Z' });
  await open.push('team/sorted', 'm', { created: '2025-01-01T00:00:00Z' });
  await open.push('team/sorted', 'l', { created: '2023-01-01T00:00:00Z' });
  const spec = imageUpdateConfig({ [`${P}image-list`]: `x=${open.host}/team/sorted`, [`${P}x.update-strategy`]: 'newest-build' })!.images[0]!;
  assert.equal((await checkImage(new RegistryClient({ apiUrl: open.url }), open.url, 'team/sorted', spec, Date.now())).tag?.name, 'm');
  const listed = await new RegistryClient({ apiUrl: open.url }).tags('team/sorted');
  const last = new RegistryClient({ apiUrl: open.url });
  assert.equal((await checkImage(last, open.url, 'team/sorted', spec, Date.now(), 'latest-last')).tag?.name, listed.at(-1));
  const first = new RegistryClient({ apiUrl: open.url });
  assert.equal((await checkImage(first, open.url, 'team/sorted', spec, Date.now(), 'latest-first')).tag?.name, listed[0]);
  assert.notEqual(listed[0], listed.at(-1));
  // The tag list and the chosen tag's manifest (for its platforms), not every candidate's config.
  assert.ok(first.requests <= 2, `${first.requests} requests`);
  // A tag pushed since moves the order: what was remembered of a position is not a build time.
  await open.push('team/sorted', 'n', { created: '2020-01-01T00:00:00Z' });
  const relisted = await new RegistryClient({ apiUrl: open.url }).tags('team/sorted');
  assert.equal((await checkImage(last, open.url, 'team/sorted', spec, Date.now(), 'latest-last')).tag?.name, relisted.at(-1));
});

test('tagsortmode changes only newest-build: semver, alphabetical, digest and min-age choose as without it', async () => {
  const now = Date.now();
  await open.push('team/modes', '1.0.0', { created: new Date(now - 7_200_000).toISOString() });
  await open.push('team/modes', '1.2.0', { created: new Date(now - 60_000).toISOString() });
  await open.push('team/modes', '1.1.0', { created: new Date(now - 3_600_000).toISOString() });
  const image = `x=${open.host}/team/modes`;
  const specs = (
    [
      { [`${P}image-list`]: image },
      { [`${P}image-list`]: image, [`${P}x.update-strategy`]: 'alphabetical' },
      { [`${P}image-list`]: `${image}:1.1.0`, [`${P}x.update-strategy`]: 'digest' },
      { [`${P}image-list`]: image, [`${P}x.update-strategy`]: 'newest-build', [`${P}x.min-age`]: '30m' },
    ] as Record<string, string>[]
  ).map((a) => imageUpdateConfig(a)!.images[0]!);
  for (const spec of specs) {
    const plain = await checkImage(new RegistryClient({ apiUrl: open.url }), open.url, 'team/modes', spec, now);
    for (const mode of ['latest-first', 'latest-last'] as const) {
      const sorted = await checkImage(new RegistryClient({ apiUrl: open.url }), open.url, 'team/modes', spec, now, mode);
      assert.deepEqual([sorted.tag?.name, sorted.tag?.digest], [plain.tag?.name, plain.tag?.digest], `${spec.strategy} ${mode}`);
    }
  }
});

test('digest follows a mutable tag: a re-push with new content gives a new digest', async () => {
  const d1 = await open.push('team/dg', 'latest', { content: 'one' });
  const spec = imageUpdateConfig({ [`${P}image-list`]: `x=${open.host}/team/dg:latest`, [`${P}x.update-strategy`]: 'digest' })!.images[0]!;
  const client = new RegistryClient({ apiUrl: open.url });
  assert.equal((await checkImage(client, open.url, 'team/dg', spec, Date.now())).tag?.digest, d1);
  const d2 = await open.push('team/dg', 'latest', { content: 'two' });
  assert.notEqual(d1, d2);
  assert.equal((await checkImage(client, open.url, 'team/dg', spec, Date.now())).tag?.digest, d2);
  assert.equal(await client.digestOf('team/dg', 'latest'), d2);
});

test('min-age: a fresh build waits, an old one is taken', async () => {
  const now = Date.now();
  await open.push('team/age', '2.0.0', { created: new Date(now - 3_600_000).toISOString() });
  await open.push('team/age', '2.1.0', { created: new Date(now - 60_000).toISOString() });
  const spec = imageUpdateConfig({ [`${P}image-list`]: `x=${open.host}/team/age`, [`${P}x.min-age`]: '30m' })!.images[0]!;
  const choice = await checkImage(new RegistryClient({ apiUrl: open.url }), open.url, 'team/age', spec, now);
  assert.equal(choice.tag?.name, '2.0.0');
  assert.deepEqual(choice.skipped, [{ tag: '2.1.0', why: 'too-young' }]);
});

test('Basic auth: credentials answer the challenge; wrong ones are refused without being shown', async () => {
  await basic.push('private/app', '3.0.0');
  const client = new RegistryClient({ apiUrl: basic.url, credentials: basic.credentials });
  await client.ping();
  assert.deepEqual(await client.tags('private/app'), ['3.0.0']);
  const wrong = new RegistryClient({ apiUrl: basic.url, credentials: { username: 'puller', password: 'not-the-password' } });
  await assert.rejects(
    wrong.tags('private/app'),
    (err: RegistryError) => err.status === 401 && /refused the credentials/.test(err.message) && !err.message.includes('not-the-password'),
  );
  await assert.rejects(new RegistryClient({ apiUrl: basic.url }).tags('private/app'), /requires credentials/);
});

test('Bearer token: the token service is asked once per scope, with Basic credentials', async () => {
  await token.push('private/tok', '1.0.0');
  await token.push('private/tok', '1.1.0');
  const client = new RegistryClient({ apiUrl: token.url, credentials: token.credentials });
  assert.deepEqual([...(await client.tags('private/tok'))].sort(), ['1.0.0', '1.1.0']);
  const before = client.requests;
  await client.tags('private/tok');
  assert.equal(client.requests - before, 1, 'the token is reused');
  const wrong = new RegistryClient({ apiUrl: token.url, credentials: { username: 'puller', password: 'nope-secret' } });
  await assert.rejects(wrong.tags('private/tok'), (err: Error) => /token service .* refused/.test(err.message) && !err.message.includes('nope-secret'));
});

test('Link pagination (docker-registry 2.8 lists all tags at once, so a stand-in pages the same list)', async () => {
  const all = Array.from({ length: 7 }, (_, i) => `1.0.${i}`);
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const n = Number(u.searchParams.get('n') ?? 3);
    const last = u.searchParams.get('last');
    const from = last ? all.indexOf(last) + 1 : 0;
    const page = all.slice(from, from + n);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (from + n < all.length) headers.link = `</v2/x/tags/list?n=${n}&last=${page[page.length - 1]}>; rel="next"`;
    res.writeHead(200, headers).end(JSON.stringify({ name: 'x', tags: page }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const client = new RegistryClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    assert.deepEqual(await client.tags('x', 3), all);
    assert.equal(client.requests, 3);
  } finally {
    server.close();
  }
});

test('a registry that is down is named in the error', async () => {
  const client = new RegistryClient({ apiUrl: 'http://127.0.0.1:1' });
  await assert.rejects(client.ping(), /registry 127.0.0.1:1 unreachable/);
});

test('registries.conf: prefix, api_url, credentials, insecure, defaultns, limit', async () => {
  const problems: string[] = [];
  const regs = parseRegistries(
    `registries:\n- name: local\n  prefix: ${open.host}\n  api_url: ${open.url}/\n  credentials: pullsecret:sluice/reg\n  insecure: yes\n  defaultns: team\n  limit: 50\n  credsexpire: 2h\n  ping: no\n- name: bad\n  prefix: x\n  api_url: ftp://x\n- name: sorted\n  prefix: s\n  api_url: https://s\n  tagsortmode: latest-first\n- name: unsorted\n  prefix: u\n  api_url: https://u\n  tagsortmode: newest\n`,
    problems,
  );
  assert.deepEqual(problems, [
    'registry bad: api_url must be an http(s) URL',
    'registry unsorted: unknown tagsortmode "newest" (latest-first, latest-last, none)',
  ]);
  assert.equal(regs[1]?.tagSortMode, 'latest-first');
  assert.deepEqual(regs[0], {
    name: 'local',
    prefix: open.host,
    apiUrl: open.url,
    credentials: { kind: 'pullsecret', namespace: 'sluice', name: 'reg' },
    insecure: true,
    isDefault: false,
    defaultNamespace: 'team',
    rateLimit: 50,
  });
  const r = registryFor(parseImageReference(`${open.host}/api`), regs);
  assert.equal(r.settings.name, 'local');
  assert.equal(r.repository, 'team/api');
  assert.equal(registryFor(parseImageReference('nginx'), regs).settings.apiUrl, 'https://registry-1.docker.io');
  // The rate limit spaces requests out.
  const limited = new RegistryClient({ apiUrl: open.url, rateLimit: 20 });
  const started = Date.now();
  for (let i = 0; i < 5; i++) await limited.ping();
  assert.ok(Date.now() - started >= 190, `5 requests at 20/s took ${Date.now() - started} ms`);
});
