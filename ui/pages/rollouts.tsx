// Rollouts in every namespace the token may read (the Argo Rollouts dashboard shows one),
// live: phase, strategy, step and weights.
import { Component } from 'preact';
import { useLayoutEffect, useMemo } from 'preact/hooks';
import { Badge } from '../components';
import { useLiveList } from '../live';
import { href, setQuery, type Route } from '../router';

interface RolloutSummary {
  namespace: string;
  name: string;
  strategy: string;
  phase: string;
  message?: string;
  step?: number;
  steps?: number;
  setWeight?: number;
  actualWeight?: number;
  desired: number;
  ready: number;
  images: string[];
}

// One row, rendered again only when its Rollout changed (an unchanged one keeps its summary object).
class Row extends Component<{ r: RolloutSummary }> {
  shouldComponentUpdate(next: { r: RolloutSummary }) {
    return next.r !== this.props.r;
  }
  render() {
    const { r } = this.props;
    return (
      <tr data-rollout={r.name} data-namespace={r.namespace} data-phase={r.phase} data-step={r.step}>
        <td>
          <a href={href('rollouts', r.namespace, r.name)}>{r.name}</a>
          <div class="muted">{r.namespace}</div>
        </td>
        <td>
          <Badge value={r.phase} title={r.message} />
        </td>
        <td>{r.strategy}</td>
        <td>{r.steps ? `${r.step}/${r.steps}` : '-'}</td>
        <td>{r.setWeight !== undefined ? `${r.setWeight} / ${r.actualWeight ?? '-'}` : '-'}</td>
        <td>
          {r.ready}/{r.desired}
        </td>
        <td class="mono">{r.images.join(', ')}</td>
      </tr>
    );
  }
}

export function RolloutsPage({ route }: { route: Route }) {
  const { items, version, live } = useLiveList<RolloutSummary>('rollouts');
  const q = route.query;
  const all = useMemo(() => [...(items?.values() ?? [])].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)), [version]);
  useLayoutEffect(() => {
    if (items) performance.mark('sluice:list-rendered'); // for the bench's breakdown (test/bench/dashboard.ts)
  }, [!items]);
  const namespaces = useMemo(() => [...new Set(all.map((r) => r.namespace))].sort(), [all]);
  const phases = useMemo(() => [...new Set(all.map((r) => r.phase))].sort(), [all]);
  const text = q.get('q')?.toLowerCase();
  const shown = all.filter(
    (r) =>
      (!q.get('namespace') || r.namespace === q.get('namespace')) &&
      (!q.get('phase') || r.phase === q.get('phase')) &&
      (!text || r.name.toLowerCase().includes(text)),
  );
  return (
    <div class="page" data-page="rollouts" data-loaded={items ? 'true' : 'false'}>
      <header class="page-head">
        <h1>Rollouts</h1>
        <span class={`live ${live ? 'on' : ''}`}>{live ? 'live' : 'connecting…'}</span>
      </header>
      <div class="filters">
        <input placeholder="search name" name="q" value={q.get('q') ?? ''} onInput={(e) => setQuery(route, { q: (e.target as HTMLInputElement).value })} />
        <select name="namespace" value={q.get('namespace') ?? ''} onChange={(e) => setQuery(route, { namespace: (e.target as HTMLSelectElement).value })}>
          <option value="">namespace: all</option>
          {namespaces.map((n) => (
            <option key={n}>{n}</option>
          ))}
        </select>
        <select name="phase" value={q.get('phase') ?? ''} onChange={(e) => setQuery(route, { phase: (e.target as HTMLSelectElement).value })}>
          <option value="">phase: all</option>
          {phases.map((n) => (
            <option key={n}>{n}</option>
          ))}
        </select>
        <span>
          {shown.length} of {all.length}
        </span>
      </div>
      {!items ? (
        <p>Loading…</p>
      ) : (
        <table class="list long rollouts">
          <thead>
            <tr>
              <th>Name</th>
              <th>Phase</th>
              <th>Strategy</th>
              <th>Step</th>
              <th>Weight (set / actual)</th>
              <th>Ready</th>
              <th>Image</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <Row key={`${r.namespace}/${r.name}`} r={r} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
