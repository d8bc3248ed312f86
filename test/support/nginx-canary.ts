// The objects every NGINX canary test starts from: stable and canary Services, the
// stable Ingress, and a Rollout routing through them. Each test names its own app and
// gives the rest of its canary strategy.
import { after, before } from 'node:test';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from './stack';

export function nginxCanaryManifests(
  namespace: string,
  app: string,
  replicas: number,
  canary: Record<string, unknown> & { trafficRouting?: { nginx?: Record<string, unknown> } },
): KubeObject[] {
  const service = (name: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const { trafficRouting, ...rest } = canary;
  return [
    service(`${app}-stable`),
    service(`${app}-canary`),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: app, namespace },
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            host: `${app}.example.com`,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `${app}-stable`, port: { number: 80 } } } }] },
          },
        ],
      },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: app, namespace },
      spec: {
        replicas,
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: `${app}:1` }] } },
        strategy: {
          canary: {
            canaryService: `${app}-canary`,
            stableService: `${app}-stable`,
            ...rest,
            trafficRouting: { nginx: { stableIngress: app, ...(trafficRouting?.nginx ?? {}) } },
          },
        },
      },
    },
  ];
}

/**
 * One NGINX canary on the test stack for a test file: its namespace, a Sluice for it,
 * the objects above applied and Healthy before the tests, everything removed after.
 */
export function nginxCanaryRig(app: string, namespacePrefix: string, replicas: number, canary: Parameters<typeof nginxCanaryManifests>[3]) {
  let stack!: TestStack;
  let sluice!: RunningSluice;
  let ns = '';
  const rig = {
    get stack() {
      return stack;
    },
    get ns() {
      return ns;
    },
    get: () => stack.kube.get(Resources.rollout, ns, app),
    canaryIngress: () => stack.kube.find(Resources.ingress, ns, `${app}-${app}-canary`),
    weightOf: (ing: KubeObject | undefined) => ing?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight'],
    rs: (hash: string) => stack.kube.get(Resources.replicaSet, ns, `${app}-${hash}`),
    selector: async (svc: string) => (await stack.kube.get(Resources.service, ns, svc)).spec.selector['rollouts-pod-template-hash'],
    setImage: (image: string) =>
      kubectl(stack, [
        'patch',
        'rollout',
        app,
        '-n',
        ns,
        '--type',
        'json',
        '-p',
        JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }]),
      ]),
    post: (cmd: string) =>
      fetch(`${sluice.apiUrl}/api/v1/namespaces/${ns}/rollouts/${app}/${cmd}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.SLUICE_TOKEN}` },
        body: '{}',
      }),
  };
  before(async () => {
    stack = await testStack();
    ns = await createNamespace(stack.kube, namespacePrefix);
    sluice = await startSluiceFor(stack, ns);
    await kubectl(stack, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nginxCanaryManifests(ns, app, replicas, canary) }));
    await eventually('Healthy', async () => (await rig.get()).status?.phase === 'Healthy');
  });
  after(async () => {
    await sluice?.stop();
    if (ns) await deleteNamespace(stack.kube, ns);
    await stack?.stop();
  });
  return rig;
}
