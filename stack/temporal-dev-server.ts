// The Temporal dev server (the `temporal` CLI built from source), with its state in a
// SQLite file so running workflows survive a restart, and Sluice's search attributes
// registered up front so Temporal UI can filter by them.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { waitFor } from '../k8s/wait';
import { freePort, ProcessGroup, stopProcess, type ManagedProcess } from './process-group';

export interface TemporalDevServerOptions {
  temporalBinary: string;
  stateDir: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  /** How long closed runs are kept (the default namespace's retention); SLUICE_TEMPORAL_RETENTION_DAYS, default 90. */
  retentionDays?: number;
  log?: (line: string) => void;
}

export const DEFAULT_RETENTION_DAYS = 90;

/** SLUICE_TEMPORAL_RETENTION_DAYS when it is a positive number, else 90: closed syncs and rollout runs are audit history. */
export function retentionDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.SLUICE_TEMPORAL_RETENTION_DAYS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_RETENTION_DAYS;
}

export interface TemporalDevServer {
  address: string;
  uiUrl?: string;
  processes: ProcessGroup;
  /** Kills the server and starts it again on the same ports and state file (fault tests). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  fs.mkdirSync(opts.stateDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const processes = new ProcessGroup(path.join(opts.stateDir, 'logs'));
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--ip=127.0.0.1',
    `--port=${port}`,
    `--db-filename=${path.join(opts.stateDir, 'temporal.sqlite')}`,
    '--log-level=warn',
    // Write-ahead log without an fsync per transaction: every write survives the server
    // being killed (the fault tests do that), only an OS crash could lose the last few.
    // The default journal fsyncs each of the many small transactions a workflow task makes.
    '--sqlite-pragma=journal_mode=wal',
    '--sqlite-pragma=synchronous=normal',
    ...(opts.headless ? ['--headless'] : [`--ui-port=${uiPort}`, '--ui-ip=127.0.0.1']),
    ...Object.entries(SEARCH_ATTRIBUTES).map(([k, t]) => `--search-attribute=${k}=${t}`),
  ];
  let proc: ManagedProcess;
  const start = async () => {
    opts.log?.(`starting the Temporal dev server on ${address}`);
    proc = processes.start('temporal', opts.temporalBinary, args);
    await waitFor(
      'the Temporal dev server',
      async () => {
        const conn = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await conn.workflowService.getSystemInfo({});
          return true;
        } finally {
          await conn.close();
        }
      },
      60_000,
      processes.failOnExit(proc),
    );
    // The dev server creates its namespace with a one-day retention; history is kept longer.
    const conn = await Connection.connect({ address, connectTimeout: 5000 });
    try {
      const days = opts.retentionDays ?? retentionDaysFromEnv();
      await conn.workflowService.updateNamespace({
        namespace: 'default',
        config: { workflowExecutionRetentionTtl: msToTs(Math.round(days * 86_400_000)) },
      });
    } finally {
      await conn.close();
    }
  };
  try {
    await start();
  } catch (err) {
    await processes.stop(); // a server that never became ready must not outlive the failed start
    throw err;
  }
  return {
    address,
    uiUrl: opts.headless ? undefined : `http://127.0.0.1:${uiPort}`,
    processes,
    async restart() {
      proc.child.kill('SIGKILL');
      await proc.exited;
      await start();
    },
    async stop() {
      await stopProcess(proc);
      await processes.stop();
    },
  };
}
