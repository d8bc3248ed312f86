// A real, local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler built from the Kubernetes Go modules, and kwok, which supplies a
// node and moves pods to Running/Ready (and Job pods to Succeeded) without containers.
// Certificates are generated on first start and kept with the state directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KubeClient, Resources } from '../k8s/kube-client';
import { waitFor } from '../k8s/wait';
import { freePort, ProcessGroup } from './process-group';
import { run, type Tools } from './toolchain';

export interface LocalClusterOptions {
  stateDir: string;
  tools: Tools;
  /** Fixed API server port (npm start); a free one when omitted (tests). */
  apiserverPort?: number;
  etcdPort?: number;
  /** Tests trade crash safety for speed. */
  etcdNoFsync?: boolean;
  /**
   * etcd and kube-apiserver alone (a second, destination-only cluster in tests): no
   * controller manager, scheduler or kwok, so nothing becomes Ready there by itself.
   */
  controlPlaneOnly?: boolean;
  log?: (line: string) => void;
}

export interface LocalCluster {
  kubeconfigPath: string;
  server: string;
  kube: KubeClient;
  processes: ProcessGroup;
  /** Stops the API server alone (fault tests); `startApiserver` brings it back. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export const KWOK_NODE_NAME = 'kwok-node-0';

async function generatePki(dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'admin.crt'))) return;
  fs.mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const ossl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3650', '-subj', '/CN=sluice-local-ca');
  const sign = async (name: string, subject: string, ext: string) => {
    fs.writeFileSync(f(`${name}.ext`), ext);
    await ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject);
    await ossl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      '3650',
      '-extfile',
      f(`${name}.ext`),
    );
  };
  await sign(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1\nextendedKeyUsage=serverAuth\n',
  );
  await sign('admin', '/O=system:masters/CN=sluice-admin', 'extendedKeyUsage=clientAuth\n');
  await ossl('genrsa', '-out', f('sa.key'), '2048');
  await ossl('rsa', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub'));
}

function writeKubeconfig(file: string, server: string, pki: string): void {
  const b64 = (name: string) => fs.readFileSync(path.join(pki, name)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sluice-local', cluster: { server, 'certificate-authority-data': b64('ca.crt') } }],
    users: [{ name: 'sluice-admin', user: { 'client-certificate-data': b64('admin.crt'), 'client-key-data': b64('admin.key') } }],
    contexts: [{ name: 'sluice-local', context: { cluster: 'sluice-local', user: 'sluice-admin' } }],
    'current-context': 'sluice-local',
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
}

export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const log = opts.log ?? (() => undefined);
  const { tools, stateDir } = opts;
  const pki = path.join(stateDir, 'pki');
  fs.mkdirSync(stateDir, { recursive: true });
  await generatePki(pki);
  const processes = new ProcessGroup(path.join(stateDir, 'logs'));

  const etcdPort = opts.etcdPort ?? (await freePort());
  const etcdPeerPort = await freePort();
  const apiPort = opts.apiserverPort ?? (await freePort());
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = path.join(stateDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, server, pki);
  const p = (name: string) => path.join(pki, name);

  const kube = KubeClient.fromKubeconfig(kubeconfigPath);
  try {
    return await startProcesses();
  } catch (err) {
    // Whatever got started (etcd alone, or the controllers too) stops with the failed start.
    kube.close();
    await processes.stop();
    throw err;
  }

  async function startProcesses(): Promise<LocalCluster> {
    log(`starting etcd on 127.0.0.1:${etcdPort}`);
    const etcd = processes.start('etcd', tools.etcd, [
      '--name=sluice',
      `--data-dir=${path.join(stateDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=sluice=http://127.0.0.1:${etcdPeerPort}`,
      '--log-level=warn',
      '--quota-backend-bytes=8589934592',
      ...(opts.etcdNoFsync ? ['--unsafe-no-fsync=true'] : []),
    ]);
    await waitFor(
      'etcd',
      async () => {
        const res = await fetch(`http://127.0.0.1:${etcdPort}/health`);
        return res.ok ? true : undefined;
      },
      30_000,
      processes.failOnExit(etcd),
    );

    const apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(stateDir, 'apiserver')}`,
      `--tls-cert-file=${p('apiserver.crt')}`,
      `--tls-private-key-file=${p('apiserver.key')}`,
      `--client-ca-file=${p('ca.crt')}`,
      `--service-account-key-file=${p('sa.pub')}`,
      `--service-account-signing-key-file=${p('sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--max-requests-inflight=0',
      '--max-mutating-requests-inflight=0',
      '--profiling=false',
      '--v=1',
    ];

    const startApiserver = async () => {
      log(`starting kube-apiserver on ${server}`);
      const apiserver = processes.start('kube-apiserver', tools.kubeApiserver, apiserverArgs);
      await waitFor(
        'kube-apiserver to be ready',
        async () => ((await kube.getText('/readyz')).statusCode === 200 ? true : undefined),
        90_000,
        processes.failOnExit(apiserver),
      );
      return apiserver;
    };
    let apiserver = await startApiserver();

    if (!opts.controlPlaneOnly) await startControllers();
    async function startControllers() {
      const controllerArgs = [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--kube-api-qps=1000', '--kube-api-burst=2000', '--v=1'];
      log('starting kube-controller-manager, kube-scheduler and kwok');
      processes.start('kube-controller-manager', tools.kubeControllerManager, [
        ...controllerArgs,
        '--secure-port=0',
        `--root-ca-file=${p('ca.crt')}`,
        `--service-account-private-key-file=${p('sa.key')}`,
        '--use-service-account-credentials=false',
        '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller,-persistentvolume-binder,-attachdetach,-ttl',
        '--concurrent-replicaset-syncs=20',
        // kwok's node is fake: a brief API server outage (a fault test) must not get it
        // marked NotReady and tainted, which would leave new pods unscheduled.
        '--node-monitor-grace-period=300s',
        '--concurrent-deployment-syncs=20',
      ]);
      processes.start('kube-scheduler', tools.kubeScheduler, [...controllerArgs, '--secure-port=0']);
      processes.start('kwok', tools.kwok, [
        `--kubeconfig=${kubeconfigPath}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--manage-nodes-with-label-selector=',
        '--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom',
        '--disregard-status-with-label-selector=',
        '--cidr=10.244.0.1/16',
        '--node-ip=10.244.0.1',
        '--node-lease-duration-seconds=40',
      ]);

      await ensureKwokNode(kube);
      await waitFor(
        `node ${KWOK_NODE_NAME} to be Ready`,
        async () => {
          const node = await kube.get(Resources.node, undefined, KWOK_NODE_NAME);
          return node.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
        },
        60_000,
      );
      // Pods need the namespace's default ServiceAccount, which the controller manager creates.
      await waitFor(
        'the default ServiceAccount',
        async () => (await kube.find({ group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true }, 'default', 'default')) ?? undefined,
        60_000,
      );
    }

    return {
      kubeconfigPath,
      server,
      kube,
      processes,
      async stopApiserver() {
        apiserver.child.kill('SIGKILL');
        await apiserver.exited;
      },
      async startApiserver() {
        apiserver = await startApiserver();
      },
      async stop() {
        kube.close();
        await processes.stop();
      },
    };
  }
}

async function ensureKwokNode(kube: KubeClient): Promise<void> {
  if (await kube.find(Resources.node, undefined, KWOK_NODE_NAME)) return;
  await kube.create(Resources.node, undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: KWOK_NODE_NAME,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': KWOK_NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    status: {
      allocatable: { cpu: '64', memory: '256Gi', pods: '5000' },
      capacity: { cpu: '64', memory: '256Gi', pods: '5000' },
    },
  });
}
