// One logger for Sluice's lines and the Temporal SDK's, with a level and a format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loggerFromEnv } from '../../worker/logger';

function capture(env: NodeJS.ProcessEnv) {
  const lines: string[] = [];
  return { lines, logger: loggerFromEnv(env, (l) => lines.push(l)) };
}

test('JSON by default: one object a line with time, level and message; info and above', () => {
  const { lines, logger } = capture({});
  logger.log('sluice running', { api: 'http://127.0.0.1:8080' });
  logger.log('watch failed; listing again', { error: 'boom' });
  logger.write('debug', 'not shown');
  logger.temporal.error('Worker failed', { taskQueue: 'sluice' });
  assert.equal(lines.length, 3);
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((p) => [p.level, p.msg]),
    [
      ['info', 'sluice running'],
      ['warn', 'watch failed; listing again'],
      ['error', 'Worker failed'],
    ],
  );
  assert.equal(parsed[0].api, 'http://127.0.0.1:8080');
  assert.equal(parsed[2].source, 'temporal');
  assert.ok(!Number.isNaN(Date.parse(String(parsed[0].time))));
});

test('SLUICE_LOG_LEVEL filters Sluice and Temporal lines alike; SLUICE_LOG_FORMAT=text is readable', () => {
  const warn = capture({ SLUICE_LOG_LEVEL: 'warn' });
  warn.logger.log('api request', { status: 200 });
  warn.logger.temporal.info('Worker state changed');
  warn.logger.temporal.log('WARN', 'slow poll');
  warn.logger.log('explicit', { level: 'error' });
  assert.deepEqual(
    warn.lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['slow poll', 'explicit'],
  );
  const debug = capture({ SLUICE_LOG_LEVEL: 'debug', SLUICE_LOG_FORMAT: 'text' });
  debug.logger.temporal.trace('core detail', { n: 1 });
  assert.match(debug.lines[0], /^\S+Z DEBUG core detail source=temporal n=1$/);
});
