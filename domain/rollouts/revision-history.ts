// A rollout's revisions as they came and went: which pod template, when it started, and
// how it ended (promoted to stable, aborted, or replaced by a newer one before either).
// The rollout workflow carries the newest of them across continueAsNew; older ones are
// read back from its closed runs (api/closed-runs.ts), so the list outlives the
// ReplicaSets that Argo's revisionHistoryLimit deletes.
import type { RolloutProgress } from './progress';
import type { RolloutSnapshot } from './types';

export type RevisionOutcome = 'Progressing' | 'Promoted' | 'Aborted' | 'Superseded';

export interface RevisionRecord {
  /** The ReplicaSet's rollout.argoproj.io/revision; 0 until its ReplicaSet exists. */
  revision: number;
  podTemplateHash: string;
  images: string[];
  startedAt: string;
  outcome: RevisionOutcome;
  /** When it became stable, was aborted, or was replaced. */
  endedAt?: string;
}

/** How many records a run carries: plenty for any run, which continues as new long before. */
export const REVISIONS_KEPT = 100;

/** The records after a pass that saw `snap` and decided `progress`. Pure; returns the same array when nothing changed. */
export function recordRevision(
  records: RevisionRecord[],
  snap: RolloutSnapshot,
  progress: RolloutProgress,
  nowIso: string,
  kept = REVISIONS_KEPT,
): RevisionRecord[] {
  const hash = progress.currentHash;
  if (!hash) return records;
  const revision = snap.replicaSets.find((rs) => rs.podTemplateHash === hash)?.revision ?? 0;
  const outcome: RevisionOutcome = progress.aborted ? 'Aborted' : hash === progress.stableHash ? 'Promoted' : 'Progressing';
  const last = records[records.length - 1];
  if (last && last.podTemplateHash === hash) {
    // Promoted is final for a revision; an abort can be retried (back to Progressing).
    const nextOutcome = last.outcome === 'Promoted' ? 'Promoted' : outcome;
    const nextRevision = last.revision || revision;
    if (nextOutcome === last.outcome && nextRevision === last.revision) return records;
    const updated: RevisionRecord = { ...last, revision: nextRevision, outcome: nextOutcome };
    if (nextOutcome === 'Progressing') delete updated.endedAt;
    else if (nextOutcome !== last.outcome) updated.endedAt = nowIso;
    return [...records.slice(0, -1), updated];
  }
  // A revision still progressing when a newer one arrives was replaced; an aborted one stays aborted.
  const closed = last?.outcome === 'Progressing' ? [...records.slice(0, -1), { ...last, outcome: 'Superseded' as const, endedAt: nowIso }] : records;
  const containers = (snap.spec.template?.spec?.containers ?? []) as { image?: string }[];
  const images = containers.map((c) => c.image ?? '').filter(Boolean);
  const started: RevisionRecord = {
    revision,
    podTemplateHash: hash,
    images,
    startedAt: nowIso,
    outcome,
    ...(outcome === 'Progressing' ? {} : { endedAt: nowIso }),
  };
  const next = [...closed, started];
  return next.length > kept ? next.slice(next.length - kept) : next;
}

/**
 * One list from the records of several runs (oldest run first), newest last: a record
 * is the same revision when it has the same hash and start; the later run's copy wins,
 * since it saw more of it.
 */
export function mergeRevisionRecords(runs: RevisionRecord[][]): RevisionRecord[] {
  const byKey = new Map<string, RevisionRecord>();
  for (const records of runs) for (const r of records) byKey.set(`${r.podTemplateHash}@${r.startedAt}`, r);
  return [...byKey.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
