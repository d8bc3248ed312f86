// Installs Sluice's CRDs (k8s/crds/*.yaml) with server-side apply and waits until the
// API server serves them.
import { FIELD_MANAGER } from '../domain/argo/names';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Resources, type KubeClient, type KubeObject } from './kube-client';
import { waitFor } from './wait';

export const crdDir = () => path.resolve(__dirname, '..', '..', 'k8s', 'crds');

export function readCrds(): KubeObject[] {
  return fs
    .readdirSync(crdDir())
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(fs.readFileSync(path.join(crdDir(), f), 'utf8')) as KubeObject);
}

export async function installCrds(kube: KubeClient): Promise<string[]> {
  const crds = readCrds();
  for (const crd of crds) {
    await kube.patch(Resources.crd, undefined, crd.metadata.name, crd, { type: 'apply', fieldManager: FIELD_MANAGER, force: true });
  }
  for (const crd of crds) {
    await waitFor(
      `CRD ${crd.metadata.name} to be established`,
      async () => {
        const live = await kube.get(Resources.crd, undefined, crd.metadata.name);
        return live.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      },
      30_000,
    );
  }
  return crds.map((c) => c.metadata.name);
}
