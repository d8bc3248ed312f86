import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRefOnly, joinRevisions, referencedValueFile, refNames, revisionsFor, sourcesOf } from '../../domain/applications/sources';
import { SourceRefusedError } from '../../domain/applications/source-safety';
import { historyEntry, projectStatus, syncedSource } from '../../domain/applications/reconcile';
import type { ApplicationSpec, Comparison } from '../../domain/applications/types';

const multi: ApplicationSpec = {
  sources: [
    { repoURL: 'https://git.example.com/charts', path: 'nginx-chart', targetRevision: 'main', helm: { valueFiles: ['$values/env/prod/values.yaml'] } },
    { repoURL: 'https://git.example.com/config', targetRevision: 'v2', ref: 'values' },
  ],
  source: { repoURL: 'https://ignored.example.com/r', path: 'x' },
};

test('spec.sources takes precedence over spec.source; an empty list does not', () => {
  assert.deepEqual(
    sourcesOf(multi).map((s) => s.field),
    ['spec.sources[0]', 'spec.sources[1]'],
  );
  assert.deepEqual(
    sourcesOf({ source: { repoURL: 'u', path: 'p' }, sources: [] }).map((s) => s.field),
    ['spec.source'],
  );
  assert.deepEqual(sourcesOf({}), []);
});

test('a ref source without path or chart only lends files', () => {
  assert.equal(isRefOnly({ repoURL: 'u', ref: 'values' }), true);
  assert.equal(isRefOnly({ repoURL: 'u', ref: 'values', path: 'manifests' }), false);
  assert.equal(isRefOnly({ repoURL: 'u', path: 'manifests' }), false);
});

test('one revision per source travels joined and is split back, missing ones falling back to targetRevision', () => {
  assert.equal(joinRevisions(['a'.repeat(40), 'b'.repeat(40)]), `${'a'.repeat(40)},${'b'.repeat(40)}`);
  assert.deepEqual(revisionsFor(multi, undefined), ['main', 'v2']);
  assert.deepEqual(revisionsFor(multi, `${'a'.repeat(40)},${'b'.repeat(40)}`), ['a'.repeat(40), 'b'.repeat(40)]);
  assert.deepEqual(revisionsFor(multi, 'release'), ['release', 'v2']);
  assert.deepEqual(revisionsFor({ source: { repoURL: 'u', targetRevision: 'main' } }, 'abc'), ['abc']);
});

test('$<ref>/<path> value files name the ref source and a path inside it', () => {
  const refs = refNames(multi);
  assert.deepEqual([...refs], [['values', 1]]);
  assert.deepEqual(referencedValueFile('$values/env/prod/values.yaml', refs, 'spec.sources[0].helm.valueFiles'), { source: 1, path: 'env/prod/values.yaml' });
  assert.equal(referencedValueFile('values-prod.yaml', refs, 'f'), undefined);
  assert.throws(
    () => referencedValueFile('$vaules/env/prod/values.yaml', refs, 'spec.sources[0].helm.valueFiles'),
    (e: Error) => e instanceof SourceRefusedError && /references \$vaules, but no source has ref: vaules \(declared: \$values\)/.test(e.message),
  );
  assert.throws(() => referencedValueFile('$values/../../etc/passwd', refs, 'f'), /leaves the repository/);
  assert.throws(() => referencedValueFile('$values/', refs, 'f'), /names no file/);
  assert.throws(
    () =>
      refNames({
        sources: [
          { repoURL: 'a', ref: 'v' },
          { repoURL: 'b', ref: 'v' },
        ],
      }),
    /more than one source/,
  );
  assert.throws(() => refNames({ sources: [{ repoURL: 'a', ref: 'v/x' }] }), /may hold only/);
});

test('status of a multi-source app: sync.revisions and sourceTypes, history with sources and revisions', () => {
  const comparison: Comparison = {
    revision: 'aaa,bbb',
    revisions: ['aaa', 'bbb'],
    resources: [],
    syncStatus: 'Synced',
    health: 'Healthy',
    kinds: [],
    sourceType: 'Helm',
    sourceTypes: ['Helm'],
  };
  const s = projectStatus({ spec: multi, comparison, history: [], reconciledAt: 't' }) as any;
  assert.deepEqual(s.sync.revisions, ['aaa', 'bbb']);
  assert.equal(s.sync.revision, undefined);
  assert.deepEqual(s.sync.comparedTo.sources, multi.sources);
  assert.deepEqual(s.sourceTypes, ['Helm']);
  const single = projectStatus({
    spec: { source: multi.source },
    comparison: { ...comparison, revision: 'ccc', revisions: undefined },
    history: [],
    reconciledAt: 't',
  }) as any;
  assert.equal(single.sync.revision, 'ccc');
  assert.equal(single.sync.revisions, undefined);
  const h = historyEntry([], 'aaa,bbb', multi.sources!, 's', 'f', { automated: true });
  assert.deepEqual({ revisions: h.revisions, sources: h.sources, source: h.source }, { revisions: ['aaa', 'bbb'], sources: multi.sources, source: undefined });
  assert.deepEqual(syncedSource(multi, 'aaa,bbb').revisions, ['aaa', 'bbb']);
  assert.deepEqual(syncedSource({ source: multi.source }, 'ccc'), { revision: 'ccc', source: multi.source });
});

test('an Argo-style operation with revisions (and sourcePositions) becomes one joined revision', async () => {
  const { withJoinedRevisions } = await import('../../activities/application');
  const three: ApplicationSpec = {
    sources: [
      { repoURL: 'a', path: 'p' },
      { repoURL: 'b', ref: 'v' },
      { repoURL: 'c', path: 'q' },
    ],
  };
  assert.equal(withJoinedRevisions({ sync: { revisions: ['r1', 'r2', 'r3'] } } as any, three)?.sync?.revision, 'r1,r2,r3');
  assert.equal(withJoinedRevisions({ sync: { revisions: ['v9'], sourcePositions: [2] } } as any, three)?.sync?.revision, ',v9,');
  assert.deepEqual(revisionsFor({ sources: [{ repoURL: 'a', targetRevision: 'main' }, { repoURL: 'b', targetRevision: 'v1' }, { repoURL: 'c' }] }, ',v9,'), [
    'main',
    'v9',
    undefined,
  ]);
  assert.equal(withJoinedRevisions({ sync: { revision: 'x' } }, three)?.sync?.revision, 'x');
  assert.equal(withJoinedRevisions({ sync: { revisions: ['r1'] } } as any, { source: { repoURL: 'a' } })?.sync?.revision, undefined);
});
