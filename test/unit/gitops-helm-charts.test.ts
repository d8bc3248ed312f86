// Helm repository logic: Masterminds constraints as Helm reads them, the index, chart URLs,
// OCI references and which repository Secret applies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chartDownloadURL,
  checkChartName,
  checkChartRepoURL,
  checkHelmVersion,
  ChartNotFoundError,
  ociChart,
  parseIndex,
  resolveChartVersion,
  sendsCredentials,
} from '../../domain/applications/helm-charts';
import { maxSatisfying, parseConstraint, parseVersion, satisfies } from '../../domain/argo/semver';
import { pickRepoCredentials, SourceRefusedError } from '../../domain/applications/source-safety';
import { repositoryCredentials } from '../../domain/applications/repository-secrets';

const ok = (constraint: string, version: string) => satisfies(parseVersion(version)!, parseConstraint(constraint));

test('constraints read as Masterminds/semver v3 reads them', () => {
  const cases: [string, string[], string[]][] = [
    ['1.2.*', ['1.2.0', '1.2.9'], ['1.3.0', '1.1.9', '1.2.5-rc.1']],
    ['1.2.x', ['1.2.3'], ['2.0.0']],
    ['1.2', ['1.2.0', '1.2.7'], ['1.3.0']],
    ['>=1.0 <2', ['1.0.0', '1.9.9'], ['2.0.0', '0.9.0', '2.0.0-alpha']],
    ['>=1.0, <2', ['1.5.0'], ['2.1.0']],
    ['> 1.2', ['1.3.0'], ['1.2.9']],
    ['>1.2.3', ['1.2.4'], ['1.2.3']],
    ['<=1.2', ['1.2.9'], ['1.3.0']],
    ['^1.2', ['1.2.0', '1.99.0'], ['2.0.0', '1.1.0']],
    ['^0.2.3', ['0.2.9'], ['0.3.0', '0.2.2']],
    ['^0.0.3', ['0.0.3'], ['0.0.4']],
    ['^0', ['0.9.0'], ['1.0.0']],
    ['~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0']],
    ['~1', ['1.9.0'], ['2.0.0']],
    ['1.2 - 1.4.5', ['1.2.0', '1.4.5'], ['1.4.6']],
    ['1.0.0 || >=3', ['1.0.0', '3.1.0'], ['2.0.0']],
    ['!=1.2.x', ['1.3.0', '2.2.0'], ['1.2.4']],
    ['*', ['0.0.1', '9.9.9'], ['1.0.0-rc.1']],
    ['', ['1.0.0'], ['1.0.0-rc.1']],
    ['>=1.0.0-0', ['1.0.0-rc.1', '1.1.0'], ['0.9.0']],
    ['1.2.3', ['1.2.3', 'v1.2.3'], ['1.2.4']],
  ];
  for (const [c, yes, no] of cases) {
    for (const v of yes) assert.ok(ok(c, v), `${v} satisfies ${c}`);
    for (const v of no) assert.ok(!ok(c, v), `${v} does not satisfy ${c}`);
  }
  assert.throws(() => parseConstraint('>=banana'), /not a version constraint/);
  assert.equal(maxSatisfying(['1.0.0', '1.2.0', '1.10.0', '2.0.0', 'latest', '1.11.0-beta'], parseConstraint('^1')), '1.10.0');
});

const INDEX = `apiVersion: v1
entries:
  demo:
    - name: demo
      version: 1.2.0
      urls: [charts/demo-1.2.0.tgz]
      digest: ${'a'.repeat(64)}
    - name: demo
      version: 1.3.0-rc.1
      urls: [https://cdn.example.com/demo-1.3.0-rc.1.tgz]
    - name: demo
      version: 1.2.5
      urls: [demo-1.2.5.tgz]
    - name: demo
      version: 2.0.0
      urls: [demo-2.0.0.tgz]
generated: "2026-01-01T00:00:00Z"
`;

test('the index resolves exact versions, constraints and the latest release', () => {
  const index = parseIndex(INDEX, 'https://charts.example.com/stable');
  const repo = 'https://charts.example.com/stable';
  assert.equal(resolveChartVersion(index, 'demo', '1.2.0', repo).digest, 'a'.repeat(64));
  assert.equal(resolveChartVersion(index, 'demo', '1.2.*', repo).version, '1.2.5');
  assert.equal(resolveChartVersion(index, 'demo', '>=1.0 <2', repo).version, '1.2.5');
  assert.equal(resolveChartVersion(index, 'demo', '', repo).version, '2.0.0');
  assert.equal(resolveChartVersion(index, 'demo', '1.3.0-rc.1', repo).version, '1.3.0-rc.1');
  assert.equal(resolveChartVersion(index, 'demo', '>=1.3.0-0 <2', repo).version, '1.3.0-rc.1');
  assert.throws(
    () => resolveChartVersion(index, 'demo', '3.x', repo),
    (e: Error) => e instanceof ChartNotFoundError && /no version matching "3.x"/.test(e.message),
  );
  assert.throws(() => resolveChartVersion(index, 'demo', '9.9.9', repo), /no version "9.9.9" in Helm repository https:\/\/charts.example.com\/stable/);
  assert.throws(() => resolveChartVersion(index, 'nope', '1.0.0', repo), /chart "nope" is not in Helm repository/);
  assert.throws(() => parseIndex('entries: [unclosed', repo), /does not parse/);
  assert.throws(
    () => parseIndex('<html>login</html>', 'https://u:secret@charts.example.com'),
    (e: Error) => /no entries/.test(e.message) && !e.message.includes('secret'),
  );
});

test('chart URLs: relative to the repository as a directory, absolute as given, only http(s)', () => {
  const index = parseIndex(INDEX, 'r');
  const entries = index.get('demo')!;
  assert.equal(chartDownloadURL('https://h.example/stable', entries[0]!), 'https://h.example/stable/charts/demo-1.2.0.tgz');
  assert.equal(chartDownloadURL('https://h.example/stable/', entries[2]!), 'https://h.example/stable/demo-1.2.5.tgz');
  assert.equal(chartDownloadURL('https://h.example/stable', entries[1]!), 'https://cdn.example.com/demo-1.3.0-rc.1.tgz');
  assert.throws(() => chartDownloadURL('https://h.example', { name: 'x', version: '1', urls: ['file:///etc/passwd'] }), SourceRefusedError);
  assert.ok(sendsCredentials('https://h.example/stable', 'https://h.example/stable/x.tgz', false));
  assert.ok(!sendsCredentials('https://h.example/stable', 'https://cdn.example.com/x.tgz', false));
  assert.ok(sendsCredentials('https://h.example/stable', 'https://cdn.example.com/x.tgz', true));
});

test('OCI references: oci:// always, a bare registry path only with enableOCI', () => {
  assert.deepEqual(ociChart('oci://registry.example.com:5000/charts/', 'demo', false), {
    registry: 'registry.example.com:5000',
    reference: 'oci://registry.example.com:5000/charts/demo',
  });
  assert.equal(ociChart('registry-1.docker.io/bitnamicharts', 'nginx', true)?.reference, 'oci://registry-1.docker.io/bitnamicharts/nginx');
  assert.equal(ociChart('registry-1.docker.io/bitnamicharts', 'nginx', false), undefined);
  assert.equal(ociChart('https://charts.example.com', 'nginx', true), undefined);
  assert.throws(() => ociChart('oci://-x/charts', 'demo', false), SourceRefusedError);
  assert.throws(() => ociChart('oci://r.example/charts', '../demo', false), SourceRefusedError);
});

test('chart sources refuse what is not a Helm repository, a registry or a chart name', () => {
  assert.equal(checkChartRepoURL('https://charts.example.com/x', 's'), 'https://charts.example.com/x');
  assert.equal(checkChartRepoURL('oci://r.example/charts', 's'), 'oci://r.example/charts');
  assert.equal(checkChartRepoURL('127.0.0.1:5001/charts', 's'), '127.0.0.1:5001/charts');
  for (const bad of ['file:///etc', 'ext::sh -c x', '-x', 'https://a b', ''])
    assert.throws(() => checkChartRepoURL(bad, 'spec.source'), SourceRefusedError, bad);
  for (const bad of ['../x', '/etc/passwd', '-x', 'a/../b', '']) assert.throws(() => checkChartName(bad, 'spec.source'), SourceRefusedError, bad);
  checkHelmVersion('v3', 's');
  assert.throws(() => checkHelmVersion('v2', 's'), /only v3/);
});

test('repository Secrets: exact url for repository, longest prefix for repo-creds, oci:// or not', () => {
  const secrets = [
    { type: 'repository' as const, url: 'https://charts.example.com/stable/', id: 'exact' },
    { type: 'repo-creds' as const, url: 'https://charts.example.com', id: 'host' },
    { type: 'repo-creds' as const, url: 'https://charts.example.com/team', id: 'team' },
    { type: 'repository' as const, url: 'registry.example.com/charts', id: 'oci' },
    { type: 'repo-creds' as const, url: 'oci://ghcr.io/org', id: 'ghcr' },
  ];
  assert.equal(pickRepoCredentials('https://charts.example.com/stable', secrets)?.id, 'exact');
  assert.equal(pickRepoCredentials('https://charts.example.com/team/x', secrets)?.id, 'team');
  assert.equal(pickRepoCredentials('https://charts.example.com/other', secrets)?.id, 'host');
  assert.equal(pickRepoCredentials('oci://registry.example.com/charts', secrets)?.id, 'oci');
  assert.equal(pickRepoCredentials('ghcr.io/org/charts', secrets)?.id, 'ghcr');
  const c = repositoryCredentials({ type: 'helm', username: 'u', password: 'p', enableOCI: 'true', forceHttpBasicAuth: 'true' });
  assert.deepEqual([c.type, c.username, c.enableOCI, c.forceHttpBasicAuth, c.insecure], ['helm', 'u', true, true, false]);
});

test('AppProject sourceRepos applies to Helm repository and OCI URLs', async () => {
  const { checkApplication } = await import('../../domain/projects/boundaries');
  const project = {
    metadata: { name: 'charts' },
    spec: {
      sourceRepos: ['https://charts.example.com/*', 'oci://registry.example.com/charts'],
      destinations: [{ server: '*', namespace: '*' }],
    },
  };
  const spec = (repoURL: string) => ({
    source: { repoURL, chart: 'demo', targetRevision: '1.0.0' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'x' },
  });
  assert.ok(checkApplication(project, spec('https://charts.example.com/stable')).ok);
  assert.ok(checkApplication(project, spec('oci://registry.example.com/charts')).ok);
  assert.match((checkApplication(project, spec('oci://registry.example.com/private')) as { message: string }).message, /not permitted in project 'charts'/);
  assert.match(
    (checkApplication(project, spec('https://evil.example.com/x')) as { message: string }).message,
    /application repo https:\/\/evil.example.com\/x is not permitted/,
  );
  assert.match(
    (
      checkApplication(project, { ...spec('https://charts.example.com/stable'), source: { repoURL: 'https://charts.example.com/stable', chart: 'demo' } }) as {
        message: string;
      }
    ).message,
    /targetRevision is required/,
  );
});
