// Sluice authenticated as the ServiceAccount deploy/ ships, not as the cluster admin: the
// RBAC part of the install (deploy/base/namespace.yaml and rbac.yaml) applied to the
// cluster, a token minted for sluice-system/sluice (TokenRequest), and a kubeconfig with
// that token and the admin kubeconfig's server and CA. The in-process client reads the same
// token and CA the way a Pod does (k8s/kubeconfig.ts kubeAccessInCluster: a service account
// directory with token and ca.crt, KUBERNETES_SERVICE_HOST/PORT), the path the shipped
// Deployment takes. Tests run with
// SLUICE_TEST_AS_SERVICE_ACCOUNT=1 start Sluice with it (test/support/stack.ts).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { KubeClient } from '../../k8s/kube-client';
import { kubeAccessInCluster } from '../../k8s/kubeconfig';
import { repoRoot } from './paths';

export const SHIPPED_SERVICE_ACCOUNT = { namespace: 'sluice-system', name: 'sluice' };

export interface ServiceAccountKube {
  kube: KubeClient;
  kubeconfigPath: string;
  username: string;
}

export async function shippedServiceAccountKube(kubectlPath: string, adminKubeconfig: string, admin: KubeClient): Promise<ServiceAccountKube> {
  const env = { ...process.env, KUBECONFIG: adminKubeconfig };
  for (const file of ['namespace.yaml', 'rbac.yaml']) {
    const args = ['apply', '--server-side', '--field-manager=sluice-install', '-f', path.join(repoRoot, 'deploy', 'base', file)];
    await new Promise<void>((resolve, reject) =>
      execFile(kubectlPath, args, { env }, (err, _out, stderr) =>
        err ? reject(new Error(`applying deploy/base/${file} failed: ${stderr || err.message}`)) : resolve(),
      ),
    );
  }
  const { namespace, name } = SHIPPED_SERVICE_ACCOUNT;
  const minted = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const adminConfig = YAML.parse(fs.readFileSync(adminKubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  const cluster = adminConfig.clusters[0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-sa-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [cluster],
      users: [{ name: 'sluice-sa', user: { token: minted.status.token } }],
      contexts: [{ name: 'sluice-sa', context: { cluster: cluster.name, user: 'sluice-sa' } }],
      'current-context': 'sluice-sa',
    }),
    { mode: 0o600 },
  );
  const serviceAccountDir = path.join(dir, 'serviceaccount');
  fs.mkdirSync(serviceAccountDir);
  fs.writeFileSync(path.join(serviceAccountDir, 'token'), minted.status.token, { mode: 0o600 });
  fs.writeFileSync(path.join(serviceAccountDir, 'ca.crt'), Buffer.from(String(cluster.cluster['certificate-authority-data']), 'base64'));
  const server = new URL(String(cluster.cluster.server));
  const kube = new KubeClient(
    kubeAccessInCluster(serviceAccountDir, { KUBERNETES_SERVICE_HOST: server.hostname.replace(/^\[|\]$/g, ''), KUBERNETES_SERVICE_PORT: server.port || '443' }),
  );
  return { kube, kubeconfigPath, username: `system:serviceaccount:${namespace}:${name}` };
}
