// Remembered helm/kustomize output: one render per set of inputs, shared by callers asking
// at once, never a failure remembered, a hard refresh renders anew, bounded by size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RenderedOutputs } from '../../activities/render/rendered-output';

function counted(out: string | Error, delayMs = 0) {
  const calls = { n: 0 };
  const render = async () => {
    calls.n++;
    await new Promise((r) => setTimeout(r, delayMs));
    if (out instanceof Error) throw out;
    return out;
  };
  return { calls, render };
}

test('the same inputs render once, also when asked for at the same time; other inputs render again', async () => {
  const cache = new RenderedOutputs();
  const { calls, render } = counted('kind: ConfigMap\n', 20);
  const outs = await Promise.all([1, 2, 3].map(() => cache.get({ chart: '/trees/abc/chart', values: 'a: 1' }, render)));
  assert.deepEqual(outs, ['kind: ConfigMap\n', 'kind: ConfigMap\n', 'kind: ConfigMap\n']);
  assert.equal(calls.n, 1);
  await cache.get({ chart: '/trees/abc/chart', values: 'a: 1' }, render);
  assert.equal(calls.n, 1);
  await cache.get({ chart: '/trees/abc/chart', values: 'a: 2' }, render);
  assert.equal(calls.n, 2, 'other values');
  await cache.get({ chart: '/trees/def/chart', values: 'a: 1' }, render);
  assert.equal(calls.n, 3, 'another commit');
});

test('a failed render is not remembered', async () => {
  const cache = new RenderedOutputs();
  const failing = counted(new Error('helm: chart not found'));
  await assert.rejects(cache.get({ k: 1 }, failing.render), /chart not found/);
  const working = counted('ok');
  assert.equal(await cache.get({ k: 1 }, working.render), 'ok');
  assert.equal(working.calls.n, 1);
});

test('a hard refresh renders anew and its output replaces the remembered one', async () => {
  const cache = new RenderedOutputs();
  await cache.get({ k: 1 }, counted('old').render);
  const again = counted('new');
  assert.equal(await cache.get({ k: 1 }, again.render, true), 'new');
  assert.equal(again.calls.n, 1);
  assert.equal(await cache.get({ k: 1 }, counted('unused').render), 'new');
  assert.equal(cache.size, 1);
});

test('the least recently used outputs go when the size bound is passed', async () => {
  const cache = new RenderedOutputs(10);
  await cache.get({ k: 'a' }, counted('aaaa').render);
  await cache.get({ k: 'b' }, counted('bbbb').render);
  await cache.get({ k: 'a' }, counted('unused').render); // a is now the most recent
  await cache.get({ k: 'c' }, counted('cccc').render); // 12 > 10: b goes
  assert.equal(cache.size, 2);
  const b = counted('bbbb');
  await cache.get({ k: 'b' }, b.render);
  assert.equal(b.calls.n, 1, 'b was evicted');
  const a = counted('unused');
  await cache.get({ k: 'c' }, a.render);
  assert.equal(a.calls.n, 0, 'c was kept');
});
