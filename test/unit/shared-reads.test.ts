// One read serves the callers that accept its age; a caller asking for a newer one (a
// refresh) gets a new read; failed reads are not reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedReads } from '../../activities/shared-reads';

test('callers within the reuse window share one read; another key reads on its own', async () => {
  const reads = new SharedReads(60_000);
  let count = 0;
  const read = async () => ++count;
  const [a, b] = await Promise.all([reads.get('k', read), reads.get('k', read)]);
  assert.equal(a, 1);
  assert.equal(b, 1);
  assert.equal(await reads.get('k', read), 1);
  assert.equal(await reads.get('other', read), 2);
});

test('a caller asking for a read started after a time it names gets a new one', async () => {
  const reads = new SharedReads(60_000);
  let count = 0;
  const read = async () => ++count;
  assert.equal(await reads.get('k', read), 1);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await reads.get('k', read, Date.now()), 2);
  assert.equal(await reads.get('k', read, Date.now() - 60_000), 2, 'an older bound accepts the newer read');
});

test('a read older than the reuse window is not reused', async () => {
  const reads = new SharedReads(1);
  let count = 0;
  const read = async () => ++count;
  assert.equal(await reads.get('k', read), 1);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await reads.get('k', read), 2);
});

test('a failed read is not reused', async () => {
  const reads = new SharedReads(60_000);
  let count = 0;
  const failing = async () => {
    count++;
    throw new Error('apiserver unavailable');
  };
  await assert.rejects(reads.get('k', failing), /unavailable/);
  await new Promise((r) => setImmediate(r));
  assert.equal(await reads.get('k', async () => 'ok'), 'ok');
  assert.equal(count, 1);
});
