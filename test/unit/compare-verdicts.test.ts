// The remembered dry-run verdicts: reused only for the same desired manifest against the
// same live object version and ignore rules; the least recently used go first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompareVerdicts } from '../../activities/compare-verdicts';

const cm = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n' }, data: { value } });

test('a verdict is reused only while the desired manifest, the live version and the ignore rules stay the same', () => {
  const v = new CompareVerdicts();
  const fp = CompareVerdicts.fingerprint(cm('1'), 'uid-1', '10', undefined)!;
  v.set('v1/ConfigMap/n/a', fp, false);
  assert.equal(v.get('v1/ConfigMap/n/a', fp), false);
  for (const other of [
    CompareVerdicts.fingerprint(cm('2'), 'uid-1', '10', undefined), // Git changed
    CompareVerdicts.fingerprint(cm('1'), 'uid-1', '11', undefined), // the live object changed
    CompareVerdicts.fingerprint(cm('1'), 'uid-2', '10', undefined), // deleted and created again
    CompareVerdicts.fingerprint(cm('1'), 'uid-1', '10', [{ kind: 'ConfigMap', jsonPointers: ['/data'] }]),
  ]) {
    assert.ok(other && other !== fp);
    assert.equal(v.get('v1/ConfigMap/n/a', other!), undefined);
  }
  assert.equal(v.get('v1/ConfigMap/n/b', fp), undefined, 'another object');
});

test('no fingerprint without a uid and resourceVersion to pin the live object', () => {
  assert.equal(CompareVerdicts.fingerprint(cm('1'), undefined, '10', undefined), undefined);
  assert.equal(CompareVerdicts.fingerprint(cm('1'), 'uid-1', undefined, undefined), undefined);
});

test('bounded: the least recently used verdict is forgotten first', () => {
  const v = new CompareVerdicts(2);
  v.set('a', 'fa', true);
  v.set('b', 'fb', false);
  assert.equal(v.get('a', 'fa'), true); // a is now the most recent
  v.set('c', 'fc', false);
  assert.equal(v.size, 2);
  assert.equal(v.get('b', 'fb'), undefined);
  assert.equal(v.get('a', 'fa'), true);
  assert.equal(v.get('c', 'fc'), false);
});
