// The ImageUpdateError condition: one message naming each image and cause, set and cleared
// without touching the other conditions, and kept when the Application's status writer
// projects its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageConditionIn, imageConditionMessage, keepImageCondition, withImageCondition } from '../../domain/images/condition';

const AT = '2026-01-01T00:00:00Z';

test('the message joins the problems once each, in order; none is no condition', () => {
  assert.equal(
    imageConditionMessage(['image a: unknown update-strategy "x"', 'image b: registry down', 'image a: unknown update-strategy "x"']),
    'image a: unknown update-strategy "x"; image b: registry down',
  );
  assert.equal(imageConditionMessage([]), undefined);
  assert.equal(imageConditionMessage(['']), undefined);
});

test('set, replaced and cleared without touching the other conditions', () => {
  const comparison = { type: 'ComparisonError', message: 'boom' };
  const set = withImageCondition([comparison], 'image a: bad', AT);
  assert.deepEqual(set, [comparison, { type: 'ImageUpdateError', message: 'image a: bad', lastTransitionTime: AT }]);
  assert.equal(imageConditionIn(set), 'image a: bad');
  const replaced = withImageCondition(set, 'image b: worse', AT);
  assert.deepEqual(
    replaced?.map((c) => c.message),
    ['boom', 'image b: worse'],
  );
  assert.deepEqual(withImageCondition(replaced, undefined, AT), [comparison]);
  assert.equal(withImageCondition([{ type: 'ImageUpdateError', message: 'x' }], undefined, AT), null, 'none left: null, as Argo CD leaves it');
  assert.equal(imageConditionIn(null), undefined);
});

test("the status writer's projection keeps the live ImageUpdateError and drops a stale copy of its own", () => {
  const image = { type: 'ImageUpdateError', message: 'image a: bad', lastTransitionTime: AT };
  assert.deepEqual(keepImageCondition(null, [image]), [image]);
  assert.deepEqual(keepImageCondition([{ type: 'ComparisonError', message: 'x' }], [{ type: 'ComparisonError', message: 'old' }, image]), [
    { type: 'ComparisonError', message: 'x' },
    image,
  ]);
  assert.equal(keepImageCondition(null, [{ type: 'ComparisonError', message: 'old' }]), null, 'other live conditions are the projection’s to drop');
});
