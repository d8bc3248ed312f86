// A rollout's revision records: one per pod template, ended as Promoted, Aborted or
// Superseded; bounded; merged from several runs without duplicates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRevisionRecords, recordRevision, type RevisionRecord } from '../../domain/rollouts/revision-history';
import type { RolloutProgress } from '../../domain/rollouts/progress';
import type { RolloutSnapshot } from '../../domain/rollouts/types';

const snap = (image: string, rs: { hash: string; revision: number }[]): RolloutSnapshot =>
  ({
    spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
    replicaSets: rs.map((r) => ({ podTemplateHash: r.hash, revision: r.revision })),
  }) as unknown as RolloutSnapshot;
const progress = (current: string, stable: string, aborted = false): RolloutProgress => ({
  currentHash: current,
  stableHash: stable,
  stepIndex: 0,
  pauseConditions: [],
  aborted,
  promoteFull: false,
});

test('revisions: promoted, superseded, aborted; revision filled in once its ReplicaSet exists', () => {
  let r: RevisionRecord[] = [];
  r = recordRevision(r, snap('demo:1', [{ hash: 'h1', revision: 1 }]), progress('h1', 'h1'), 't1');
  assert.deepEqual(r, [{ revision: 1, podTemplateHash: 'h1', images: ['demo:1'], startedAt: 't1', outcome: 'Promoted', endedAt: 't1' }]);
  assert.equal(recordRevision(r, snap('demo:1', [{ hash: 'h1', revision: 1 }]), progress('h1', 'h1'), 't2'), r, 'nothing new: the same array');
  r = recordRevision(r, snap('demo:2', [{ hash: 'h1', revision: 1 }]), progress('h2', 'h1'), 't3');
  assert.equal(r[1].revision, 0);
  r = recordRevision(r, snap('demo:2', [{ hash: 'h2', revision: 2 }]), progress('h2', 'h1'), 't4');
  assert.equal(r[1].revision, 2);
  r = recordRevision(r, snap('demo:3', [{ hash: 'h3', revision: 3 }]), progress('h3', 'h1'), 't5');
  assert.deepEqual(
    r.map((x) => [x.podTemplateHash, x.outcome, x.endedAt]),
    [
      ['h1', 'Promoted', 't1'],
      ['h2', 'Superseded', 't5'],
      ['h3', 'Progressing', undefined],
    ],
  );
  r = recordRevision(r, snap('demo:3', [{ hash: 'h3', revision: 3 }]), progress('h3', 'h1', true), 't6');
  assert.deepEqual([r[2].outcome, r[2].endedAt], ['Aborted', 't6']);
  r = recordRevision(r, snap('demo:3', [{ hash: 'h3', revision: 3 }]), progress('h3', 'h1'), 't7');
  assert.deepEqual([r[2].outcome, r[2].endedAt], ['Progressing', undefined], 'retried');
  r = recordRevision(r, snap('demo:3', [{ hash: 'h3', revision: 3 }]), progress('h3', 'h3'), 't8');
  assert.deepEqual([r[2].outcome, r[2].endedAt], ['Promoted', 't8']);
  assert.equal(recordRevision(r, snap('demo:4', []), progress('h4', 'h3'), 't9', 2).length, 2, 'bounded');
});

test('records from several runs merge by revision start, the later copy winning', () => {
  const a: RevisionRecord = { revision: 1, podTemplateHash: 'h1', images: [], startedAt: 't1', outcome: 'Progressing' };
  const b: RevisionRecord = { ...a, outcome: 'Promoted', endedAt: 't2' };
  const c: RevisionRecord = { revision: 2, podTemplateHash: 'h2', images: [], startedAt: 't3', outcome: 'Progressing' };
  assert.deepEqual(mergeRevisionRecords([[a], [b, c]]), [b, c]);
});
