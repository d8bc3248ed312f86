// The loopback ports `sluice up` listens on, overridable by environment (a second stack
// beside the first, tests), and a check that they are all free before anything starts,
// naming the process that holds a taken one.
import * as fs from 'node:fs';
import * as net from 'node:net';

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  kubeApiserver: number;
  etcd: number;
  prometheus: number;
}

export const DEFAULT_STACK_PORTS: StackPorts = { temporal: 7233, temporalUi: 8233, kubeApiserver: 6443, etcd: 2379, prometheus: 9090 };

const PORT_ENV: Record<keyof StackPorts, string> = {
  temporal: 'SLUICE_TEMPORAL_PORT',
  temporalUi: 'SLUICE_TEMPORAL_UI_PORT',
  kubeApiserver: 'SLUICE_KUBE_APISERVER_PORT',
  etcd: 'SLUICE_ETCD_PORT',
  prometheus: 'SLUICE_PROMETHEUS_PORT',
};

export function stackPortsFromEnv(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports = { ...DEFAULT_STACK_PORTS };
  for (const key of Object.keys(PORT_ENV) as (keyof StackPorts)[]) {
    const raw = env[PORT_ENV[key]];
    if (!raw) continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${PORT_ENV[key]}=${raw} is not a port number`);
    ports[key] = port;
  }
  return ports;
}

export interface TakenPort {
  /** What `sluice up` wanted it for. */
  purpose: string;
  port: number;
  /** "pid 1234 (temporal server start-dev …)" when /proc tells who listens. */
  holder?: string;
}

/** The ports among `wanted` that cannot be bound on `host` right now. */
export async function takenPorts(host: string, wanted: Record<string, number>): Promise<TakenPort[]> {
  const taken: TakenPort[] = [];
  for (const [purpose, port] of Object.entries(wanted)) {
    if (await canListen(host, port)) continue;
    taken.push({ purpose, port, holder: listenerOf(port) });
  }
  return taken;
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Who listens on a TCP port, from /proc (Linux); undefined elsewhere or when not ours to see. */
export function listenerOf(port: number): string | undefined {
  try {
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!fs.existsSync(table)) continue;
      for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is the tenth column.
        if (cols.length > 9 && cols[3] === '0A' && parseInt(cols[1].split(':')[1], 16) === port) inodes.add(cols[9]);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1])) return `pid ${pid} (${commandLine(Number(pid)).slice(0, 120)})`;
      }
    }
  } catch {
    // best effort: the port is reported taken either way
  }
  return undefined;
}

export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}
