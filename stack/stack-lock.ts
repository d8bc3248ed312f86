// One `sluice up` per state directory: a file there names the process that owns the
// stack and, once it is up, where it serves. A second start reads it and tells the user
// where the running one is instead of starting servers beside it. The owner is
// identified by pid and the kernel's start time of that pid, so a file left by a killed
// process (or a recycled pid) is recognised as stale and replaced.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StackAddresses {
  apiUrl?: string;
  temporalAddress?: string;
  temporalUiUrl?: string;
  kubeconfig?: string;
  prometheusUrl?: string;
}

export interface StackOwner extends StackAddresses {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a live owner from a later process reusing its pid. */
  processStart: string;
  startedAt: string;
  stateDir: string;
  /** False while it is still starting. */
  ready: boolean;
}

export type LockResult = { acquired: true; lock: StackLock } | { acquired: false; owner: StackOwner };

export class StackLock {
  private constructor(
    readonly file: string,
    private owner: StackOwner,
  ) {}

  static lockFile(stateDir: string): string {
    return path.join(stateDir, 'sluice-up.json');
  }

  static acquire(stateDir: string): LockResult {
    fs.mkdirSync(stateDir, { recursive: true });
    const file = StackLock.lockFile(stateDir);
    const owner: StackOwner = {
      pid: process.pid,
      processStart: processStart(process.pid) ?? '',
      startedAt: new Date().toISOString(),
      stateDir,
      ready: false,
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // 'wx' creates the file only if absent: of two starts racing, one wins.
        fs.writeFileSync(file, JSON.stringify(owner, null, 2), { flag: 'wx', mode: 0o600 });
        return { acquired: true, lock: new StackLock(file, owner) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const existing = readOwner(file);
      if (existing && isAlive(existing)) return { acquired: false, owner: existing };
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
    throw new Error(`could not take ${file}: another start keeps replacing it`);
  }

  /** Records where the stack serves, for a later start to print. */
  ready(addresses: StackAddresses): void {
    this.owner = { ...this.owner, ...addresses, ready: true };
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(this.owner, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  release(): void {
    const current = readOwner(this.file);
    if (current?.pid === this.owner.pid && current.processStart === this.owner.processStart) fs.rmSync(this.file, { force: true });
  }
}

function readOwner(file: string): StackOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StackOwner;
  } catch {
    return undefined; // half-written or unreadable: treated as stale
  }
}

function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(owner: StackOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(owner.pid);
  // Without /proc, a live pid is taken at its word.
  return start === undefined || owner.processStart === '' || start === owner.processStart;
}

/** What a second start prints about the running one. */
export function describeOwner(owner: StackOwner): string {
  const starting = owner.ready ? '' : ', still starting';
  const lines = [`Sluice is already running here (pid ${owner.pid}, since ${owner.startedAt}, state in ${owner.stateDir})${starting}:`];
  const row = (label: string, value: string | undefined) => value && lines.push(`  ${label.padEnd(13)} ${value}`);
  row('Sluice API', owner.apiUrl);
  row('Temporal UI', owner.temporalUiUrl ?? (owner.temporalAddress ? `(Temporal at ${owner.temporalAddress})` : undefined));
  row('Prometheus', owner.prometheusUrl);
  row('Kubeconfig', owner.kubeconfig && `export KUBECONFIG=${owner.kubeconfig}`);
  lines.push(`Stop it (Ctrl-C in its terminal, or kill ${owner.pid}) before starting another, or use another --state-dir and ports.`);
  return lines.join('\n');
}
