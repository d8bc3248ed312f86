// Every Sluice API route but health and metrics needs a bearer token. Tests get an
// admin token for the stack they run on, in SLUICE_TOKEN, which the CLI reads and
// child processes inherit.
import type { KubeClient } from '../../k8s/kube-client';
import { AccessControl } from '../../api/auth/access-control';

export async function ensureAdminToken(kube: KubeClient): Promise<string> {
  if (process.env.SLUICE_TOKEN) return process.env.SLUICE_TOKEN;
  const access = new AccessControl(kube, process.env.SLUICE_NAMESPACE || 'sluice-system');
  await access.ensureObjects();
  const { token } = await access.issueToken('admin', 4 * 3600, 'tests');
  process.env.SLUICE_TOKEN = token;
  return token;
}
