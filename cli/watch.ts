// `--watch`: redraw a view every interval. On a terminal the previous drawing is
// overwritten in place (cursor up over the rows it took, wrapped lines included, then
// clear to the end); piped, each drawing is appended, and only when it changed.
export interface WatchOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface WatchOptions {
  intervalMs: number;
  timeoutMs?: number;
  out?: WatchOutput;
  /** Resolves (or is set) when the watch should end; Ctrl-C by default. */
  stopped?: () => boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The terminal rows `lines` occupy at `columns` wide. */
export function rowsUsed(lines: string[], columns: number): number {
  return lines.reduce((n, l) => n + Math.max(1, Math.ceil([...l].length / columns)), 0);
}

export async function watchLines(draw: () => Promise<string[]>, opts: WatchOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Infinity;
  let interrupted = false;
  const stopped = opts.stopped ?? (() => interrupted);
  if (!opts.stopped) process.once('SIGINT', () => (interrupted = true));
  let previous: string[] = [];
  while (!stopped() && Date.now() < deadline) {
    const lines = await draw();
    if (out.isTTY) {
      const used = rowsUsed(previous, out.columns || 200);
      out.write((used ? `\x1b[${used}F\x1b[J` : '') + lines.join('\n') + '\n');
    } else if (lines.join('\n') !== previous.join('\n')) {
      out.write((previous.length ? '\n' : '') + lines.join('\n') + '\n');
    }
    previous = lines;
    for (let waited = 0; waited < opts.intervalMs && !stopped() && Date.now() < deadline; waited += 50) await sleep(Math.min(50, opts.intervalMs));
  }
}
