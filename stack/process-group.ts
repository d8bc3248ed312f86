// Child processes of the local stack: each logs to its own file, and stopping the
// group stops them in reverse start order, SIGTERM first, SIGKILL if they linger.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/**
 * Every child the stack has spawned and not yet seen exit (servers and tool builds), so
 * a signal during start-up can stop them all wherever start-up had got to.
 */
const liveChildren = new Set<ChildProcess>();
let stoppingAll = false;

export function trackChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Start-up may still spawn something after a signal asked everything to stop.
  if (stoppingAll) child.kill('SIGKILL');
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  child.once('error', () => liveChildren.delete(child));
}

/** SIGTERM to every tracked child, SIGKILL to those still there after the grace period. */
export async function stopAllChildren(graceMs = 5000): Promise<void> {
  stoppingAll = true;
  await Promise.all(
    [...liveChildren].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

export class ProcessGroup {
  private readonly procs: ManagedProcess[] = [];

  constructor(private readonly logDir: string) {
    fs.mkdirSync(logDir, { recursive: true });
  }

  start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ManagedProcess {
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
    fs.closeSync(fd);
    trackChild(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const proc = { name, child, logFile, exited };
    this.procs.push(proc);
    return proc;
  }

  /** Rejects as soon as the process exits, so a crash during start-up is reported, not waited out. */
  failOnExit(proc: ManagedProcess): Promise<never> {
    const failed = proc.exited.then((code): never => {
      const tail = fs.existsSync(proc.logFile) ? fs.readFileSync(proc.logFile, 'utf8').slice(-3000) : '';
      throw new Error(`${proc.name} exited with code ${code}; last lines of ${proc.logFile}:\n${tail}`);
    });
    failed.catch(() => undefined); // a later, deliberate stop must not be an unhandled rejection
    return failed;
  }

  async stop(): Promise<void> {
    for (const proc of [...this.procs].reverse()) await stopProcess(proc);
    this.procs.length = 0;
  }
}

export async function stopProcess(proc: ManagedProcess, graceMs = 5000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
