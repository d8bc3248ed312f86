// One logger for the whole process: Sluice's own lines (watchers, API, start-up) and the
// Temporal SDK's (worker, core), so an operator sets one level and one format.
// SLUICE_LOG_LEVEL = debug | info | warn | error (default info);
// SLUICE_LOG_FORMAT = json (default: one JSON object per line, for log collectors) | text.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Sluice's call shape: a message and fields. A line with an `error` field is a warning unless it says its `level`. */
export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export interface SluiceLogger {
  log: Log;
  write(level: Level, msg: string, fields?: Record<string, unknown>): void;
  /** The same lines for the Temporal SDK (Runtime.install({ logger })). */
  temporal: Logger;
}

export function loggerFromEnv(env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): SluiceLogger {
  const asked = (env.SLUICE_LOG_LEVEL ?? 'info').toLowerCase();
  const threshold = asked in RANK ? RANK[asked as Level] : RANK.info;
  const text = (env.SLUICE_LOG_FORMAT ?? 'json').toLowerCase() === 'text';
  const write = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[level] < threshold) return;
    const { level: _ignored, ...rest } = fields;
    const time = new Date().toISOString();
    if (text) {
      const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      out([time, level.toUpperCase(), msg, ...extra].join(' '));
    } else out(JSON.stringify({ time, level, msg, ...rest }, bigints));
  };
  const log: Log = (msg, fields) => {
    const said = fields?.level;
    const level: Level = typeof said === 'string' && said in RANK ? (said as Level) : fields && 'error' in fields ? 'warn' : 'info';
    write(level, msg, fields);
  };
  const fromTemporal = (level: LogLevel): Level =>
    level === 'TRACE' || level === 'DEBUG' ? 'debug' : level === 'INFO' ? 'info' : level === 'WARN' ? 'warn' : 'error';
  const temporal: Logger = {
    log: (level, message, meta?: LogMetadata) => write(fromTemporal(level), message, { source: 'temporal', ...meta }),
    trace: (message, meta) => write('debug', message, { source: 'temporal', ...meta }),
    debug: (message, meta) => write('debug', message, { source: 'temporal', ...meta }),
    info: (message, meta) => write('info', message, { source: 'temporal', ...meta }),
    warn: (message, meta) => write('warn', message, { source: 'temporal', ...meta }),
    error: (message, meta) => write('error', message, { source: 'temporal', ...meta }),
  };
  return { log, write, temporal };
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
