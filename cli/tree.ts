// Draws a RolloutTree the way `kubectl argo rollouts get rollout` does: a summary,
// then the Rollout → revision → ReplicaSet → Pod tree with AnalysisRuns and their
// metrics. Pure (text in, lines out), so `--watch` can redraw it in place.
import type { AnalysisRunNode, RolloutTree } from '../domain/rollouts/tree';

const ICONS: Record<string, string> = {
  Healthy: '✔',
  Running: '✔',
  Successful: '✔',
  Succeeded: '✔',
  Progressing: '◌',
  Pending: '◌',
  Terminating: '◌',
  Paused: '॥',
  Degraded: '✖',
  Failed: '✖',
  Aborted: '✖',
  Error: '⚠',
  Inconclusive: '?',
  ScaledDown: '•',
};

export const withIcon = (status: string) => `${ICONS[status] ?? '?'} ${status}`;
// A running pod is fine; a running analysis is still undecided.
const analysisIcon = (phase: string) => (phase === 'Running' ? `◌ ${phase}` : withIcon(phase));

export function age(since: string | undefined, now: Date): string {
  if (!since) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

interface Row {
  prefix: string;
  name: string;
  kind: string;
  status: string;
  age: string;
  info: string;
}

function analysisRows(runs: AnalysisRunNode[], indent: string, lastGroup: boolean, now: Date, rows: Row[]): void {
  runs.forEach((run, i) => {
    const last = lastGroup && i === runs.length - 1;
    const counts = run.metrics.reduce((c, m) => ({ ok: c.ok + m.successful, bad: c.bad + m.failed + m.error }), { ok: 0, bad: 0 });
    rows.push({
      prefix: `${indent}${last ? '└──' : '├──'}α `,
      name: run.name,
      kind: 'AnalysisRun',
      status: analysisIcon(run.phase),
      age: age(run.createdAt, now),
      info: `✔ ${counts.ok},✖ ${counts.bad}`,
    });
    const childIndent = `${indent}${last ? '   ' : '│  '}`;
    run.metrics.forEach((m, j) => {
      const values = m.measurements
        .slice(-5)
        .map((x) => x.value ?? x.phase)
        .join(', ');
      rows.push({
        prefix: `${childIndent}${j === run.metrics.length - 1 ? '└──' : '├──'}◈ `,
        name: m.name,
        kind: 'Metric',
        status: analysisIcon(m.phase),
        age: '',
        info: values ? `values: ${values}` : '',
      });
    });
  });
}

export function renderRolloutTree(tree: RolloutTree, now: Date, workflowSummary?: string): string[] {
  const out: string[] = [];
  const field = (k: string, v: string | number) => out.push(`${(k + ':').padEnd(17)}${v}`);
  field('Name', tree.name);
  field('Namespace', tree.namespace);
  field('Status', tree.phase); // plain, so scripts can match "Status: Healthy"; the tree below has icons
  if (tree.message) field('Message', tree.message);
  field('Strategy', tree.strategy);
  if (tree.step) {
    field('  Step', `${tree.step.index}/${tree.step.count}${tree.step.current ? ` (${tree.step.current})` : ''}`);
  }
  if (tree.setWeight !== undefined) field('  SetWeight', tree.setWeight);
  if (tree.actualWeight !== undefined) field('  ActualWeight', tree.actualWeight);
  tree.images.forEach((img, i) => out.push(`${(i === 0 ? 'Images:' : '').padEnd(17)}${img.image}${img.roles.length ? ` (${img.roles.join(', ')})` : ''}`));
  if (tree.images.length === 0) field('Images', '-');
  out.push('Replicas:');
  for (const [k, v] of Object.entries(tree.replicas)) field(`  ${k[0]!.toUpperCase()}${k.slice(1)}`, v);
  if (tree.pauseConditions.length) field('Paused', tree.pauseConditions.map((p) => `${p.reason} since ${p.startTime}`).join(', '));
  if (workflowSummary) field('Workflow', workflowSummary);
  out.push('');

  const rows: Row[] = [{ prefix: '⟳ ', name: tree.name, kind: 'Rollout', status: withIcon(tree.phase), age: age(tree.createdAt, now), info: '' }];
  tree.revisions.forEach((rev, ri) => {
    const lastRev = ri === tree.revisions.length - 1;
    rows.push({ prefix: lastRev ? '└──' : '├──', name: `# revision:${rev.revision}`, kind: '', status: '', age: '', info: '' });
    const indent = lastRev ? '   ' : '│  ';
    rev.replicaSets.forEach((rs, si) => {
      const lastRs = si === rev.replicaSets.length - 1 && rev.analysisRuns.length === 0;
      rows.push({
        prefix: `${indent}${lastRs ? '└──' : '├──'}⧉ `,
        name: rs.name,
        kind: 'ReplicaSet',
        status: withIcon(rs.status),
        age: age(rs.createdAt, now),
        info: rs.roles.join(','),
      });
      const podIndent = `${indent}${lastRs ? '   ' : '│  '}`;
      rs.pods.forEach((p, pi) => {
        const info = [`ready:${p.ready}`, ...(p.restarts ? [`restarts:${p.restarts}`] : [])].join(',');
        rows.push({
          prefix: `${podIndent}${pi === rs.pods.length - 1 ? '└──' : '├──'}□ `,
          name: p.name,
          kind: 'Pod',
          status: withIcon(p.status),
          age: age(p.createdAt, now),
          info,
        });
      });
    });
    analysisRows(rev.analysisRuns, indent, true, now, rows);
  });

  const width = (f: (r: Row) => string, min: number) => Math.max(min, ...rows.map((r) => [...f(r)].length)) + 2;
  const wName = width((r) => r.prefix + r.name, 4);
  const wKind = width((r) => r.kind, 4);
  const wStatus = width((r) => r.status, 6);
  const wAge = width((r) => r.age, 3);
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - [...s].length));
  out.push(`${pad('NAME', wName)}${pad('KIND', wKind)}${pad('STATUS', wStatus)}${pad('AGE', wAge)}INFO`);
  for (const r of rows) out.push(`${pad(r.prefix + r.name, wName)}${pad(r.kind, wKind)}${pad(r.status, wStatus)}${pad(r.age, wAge)}${r.info}`.trimEnd());
  return out;
}
