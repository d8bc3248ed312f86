import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, parseDuration } from '../../workflows/rollouts/duration';

test('integers are seconds', () => {
  assert.equal(parseDuration(10), 10_000);
  assert.equal(parseDuration('45'), 45_000);
});

test('Go duration strings', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5s'), 1500);
});

test('garbage is refused with the value in the message', () => {
  for (const bad of ['10x', 'soon', '', '-5s', '5 m'] as const) {
    assert.throws(() => parseDuration(bad), (err: unknown) => err instanceof DurationError && err.message.includes(JSON.stringify(bad).slice(1, -1)));
  }
  assert.throws(() => parseDuration(-1), DurationError);
});
