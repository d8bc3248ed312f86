import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, parseDuration, parseGoDuration } from '../../domain/argo/duration';

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
    assert.throws(
      () => parseDuration(bad),
      (err: unknown) => err instanceof DurationError && err.message.includes(JSON.stringify(bad).slice(1, -1)),
    );
  }
  assert.throws(() => parseDuration(-1), DurationError);
});

test("Go's own syntax, which sync windows use as it is", () => {
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('-1.5h'), -5_400_000);
  assert.equal(parseGoDuration('+.5s'), 500);
  assert.equal(parseGoDuration('1.s'), 1000);
  assert.equal(parseGoDuration('3μs'), 0.003);
  assert.equal(parseGoDuration('0'), 0);
  for (const bad of ['', '5', '.s', '1d', ' 1s', '1s ']) assert.equal(parseGoDuration(bad), undefined, bad);
});

test('an Argo duration takes every Go duration that is not negative', () => {
  assert.equal(parseDuration('.5s'), 500);
  assert.equal(parseDuration('+2m'), 120_000);
  assert.equal(parseDuration('0'), 0);
});
