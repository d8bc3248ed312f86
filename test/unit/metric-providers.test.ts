// The pure parts of the providers: kubectl-style JSONPath and value formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectValue, toJsonPath } from '../../activities/metric-providers/web';
import { formatSample } from '../../activities/metric-providers/prometheus';
import { jobName } from '../../activities/metric-providers/job';

test('web jsonPath: {$.x}, {.x} and the whole body', () => {
  assert.equal(toJsonPath('{$.statusCode}'), '$.statusCode');
  assert.equal(toJsonPath('{.data.ok}'), '$.data.ok');
  assert.equal(toJsonPath(undefined), '$');
  assert.deepEqual(selectValue({ statusCode: '200' }, '{$.statusCode}'), { result: '200', value: '"200"' });
  assert.deepEqual(selectValue({ data: { rate: 0.5 } }, '{$.data.rate}'), { result: 0.5, value: '0.5' });
  assert.throws(() => selectValue({ a: 1 }, '{$.b}'), /produced no value/);
});

test('prometheus samples shown as Go prints them', () => {
  assert.equal(formatSample(0.05), '0.05');
  assert.equal(formatSample(NaN), 'NaN');
  assert.equal(formatSample(Infinity), '+Inf');
  assert.equal(formatSample(1e21), '1000000000000000000000');
});

test('job names are deterministic and fit a label value', () => {
  const run = { namespace: 'n', name: 'r', uid: '0123456789abcdef0123456789abcdef0123' };
  const name = jobName({ run, metric: { name: 'a-really-long-metric-name-that-goes-on', provider: {} }, measurementNumber: 2 });
  assert.ok(name.length <= 63, name);
  assert.match(name, /^0123456789abcdef0123456789abcdef0123\.a-really-.*\.2$/);
});
