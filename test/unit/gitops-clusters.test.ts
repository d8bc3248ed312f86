import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeAccessFor, parseClusterSecret, pickCluster, type RegisteredCluster } from '../../k8s/clusters';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (data: Record<string, string>, name = 'prod') => ({
  metadata: { name, namespace: 'argocd', uid: 'u1', resourceVersion: '7' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

test('a cluster Secret as Argo CD declares it: name, server (trailing slash dropped), config', () => {
  const c = parseClusterSecret(
    secret({
      name: 'prod',
      server: 'https://prod.example.com:6443/',
      config: JSON.stringify({ bearerToken: 's3cret', tlsClientConfig: { caData: 'Q0E=', insecure: false } }),
    }),
  );
  assert.ok(!('error' in c));
  assert.equal((c as RegisteredCluster).server, 'https://prod.example.com:6443');
  assert.equal((c as RegisteredCluster).name, 'prod');
  assert.equal((c as RegisteredCluster).config.bearerToken, 's3cret');
  assert.equal((c as RegisteredCluster).version, 'u1/7');
  const unnamed = parseClusterSecret(secret({ server: 'https://x:6443' })) as RegisteredCluster;
  assert.equal(unnamed.name, 'https://x:6443', 'name defaults to the server');
});

test('a broken cluster Secret is named without showing its values', () => {
  const bad = parseClusterSecret(secret({ server: 'https://x', config: '{"bearerToken": "s3cret"' }));
  assert.deepEqual(bad, { error: 'cluster secret argocd/prod: config is not valid JSON' });
  assert.deepEqual(parseClusterSecret(secret({ name: 'x' })), { error: 'cluster secret argocd/prod has no server' });
  assert.ok(!JSON.stringify(bad).includes('s3cret'));
});

test('destination.server or destination.name picks a cluster; in-cluster stays ours; unknown ones are named', () => {
  const prod = parseClusterSecret(secret({ name: 'prod', server: 'https://prod:6443' })) as RegisteredCluster;
  const all = [prod];
  assert.equal(pickCluster({ server: 'https://prod:6443/' }, all), prod);
  assert.equal(pickCluster({ name: 'prod' }, all), prod);
  assert.equal(pickCluster({ server: 'https://kubernetes.default.svc' }, all), 'in-cluster');
  assert.equal(pickCluster({ name: 'in-cluster' }, all), 'in-cluster');
  assert.equal(pickCluster({}, all), 'in-cluster');
  assert.deepEqual(pickCluster({ server: 'https://10.0.0.1:6443' }, all), { error: 'there are no clusters with this URL: https://10.0.0.1:6443' });
  assert.deepEqual(pickCluster({ name: 'staging' }, all), { error: 'there are no clusters with this name: staging' });
  assert.match((pickCluster({ name: 'prod', server: 'https://prod:6443' }, all) as { error: string }).error, /can't have both name and server/);
  const twin = { ...prod, server: 'https://prod-2:6443', secret: 'argocd/prod-2' };
  assert.match((pickCluster({ name: 'prod' }, [prod, twin]) as { error: string }).error, /there are 2 clusters with the same name/);
  // A Secret registering the in-cluster URL takes it over, as in Argo CD.
  const inCluster = { ...prod, server: 'https://kubernetes.default.svc', name: 'local' };
  assert.equal(pickCluster({ server: 'https://kubernetes.default.svc' }, [inCluster]), inCluster);
});

test('the access to a cluster carries its token, CA and client certificate', async () => {
  const c = parseClusterSecret(
    secret({
      name: 'prod',
      server: 'https://prod:6443',
      config: JSON.stringify({ bearerToken: 't', tlsClientConfig: { caData: 'Q0E=', certData: 'Q0VSVA==', keyData: 'S0VZ', insecure: true } }),
    }),
  ) as RegisteredCluster;
  const access = kubeAccessFor(c);
  assert.equal(access.server, 'https://prod:6443');
  const opts = await access.requestOptions();
  assert.equal(String(opts.ca), 'CA');
  assert.equal(opts.rejectUnauthorized, false);
  assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer t');
  assert.equal(String(opts.cert), 'CERT');
  assert.equal(String(opts.key), 'KEY');
});
