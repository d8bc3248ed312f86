import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsUsed, watchLines } from '../../cli/watch';

function frames(views: string[][]) {
  let i = 0;
  return async () => views[Math.min(i++, views.length - 1)]!;
}

test('on a terminal each drawing overwrites the previous one in place', async () => {
  const written: string[] = [];
  let draws = 0;
  const draw = frames([
    ['Status: Progressing', 'a'],
    ['Status: Paused', 'a', 'b'],
    ['Status: Paused', 'a', 'b'],
  ]);
  await watchLines(async () => (draws++, draw()), {
    intervalMs: 1,
    out: { isTTY: true, columns: 80, write: (t) => written.push(t) },
    stopped: () => draws >= 3,
  });
  assert.equal(written.length, 3);
  assert.equal(written[0], 'Status: Progressing\na\n');
  assert.equal(written[1], '\x1b[2F\x1b[JStatus: Paused\na\nb\n', 'up over the 2 rows drawn before, clear, redraw');
  assert.equal(written[2], '\x1b[3F\x1b[JStatus: Paused\na\nb\n');
});

test('piped, a drawing is appended only when it changed, with no escape codes', async () => {
  const written: string[] = [];
  let draws = 0;
  const draw = frames([['one'], ['one'], ['two']]);
  await watchLines(async () => (draws++, draw()), { intervalMs: 1, out: { isTTY: false, write: (t) => written.push(t) }, stopped: () => draws >= 3 });
  assert.deepEqual(written, ['one\n', '\ntwo\n']);
});

test('wrapped lines count as the rows they take', () => {
  assert.equal(rowsUsed(['x'.repeat(81), '', 'y'], 80), 4);
  assert.equal(rowsUsed(['⟳ ॥ ✔'], 3), 2, 'characters, not bytes');
});
