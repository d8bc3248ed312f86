// Every Application the token may read, live from the stream: counts per status,
// filters kept in the URL, tiles or a table.
import { Component } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useState } from 'preact/hooks';
import { ago, Badge } from '../components';
import { useLiveList } from '../live';
import { href, setQuery, type Route } from '../router';

/** What the stream sends of an Application (api/dashboard/summaries.ts). */
export interface AppSummary {
  namespace: string;
  name: string;
  project: string;
  sync: string;
  health: string;
  syncing?: true;
  destination: { server?: string; name?: string; namespace?: string };
  revision?: string;
  lastSync?: string;
  labels?: Record<string, string>;
}

const FILTERS = ['project', 'sync', 'health', 'namespace', 'cluster', 'label'] as const;
const cluster = (a: AppSummary) => a.destination.name ?? a.destination.server ?? '';

function matches(a: AppSummary, q: URLSearchParams): boolean {
  const text = q.get('q')?.toLowerCase();
  if (text && !`${a.namespace}/${a.name}`.toLowerCase().includes(text)) return false;
  if (q.get('project') && a.project !== q.get('project')) return false;
  if (q.get('sync') && a.sync !== q.get('sync')) return false;
  if (q.get('health') && a.health !== q.get('health')) return false;
  if (q.get('namespace') && a.destination.namespace !== q.get('namespace')) return false;
  if (q.get('cluster') && cluster(a) !== q.get('cluster')) return false;
  const label = q.get('label');
  if (label) {
    const [k, v] = label.split('=');
    if (!a.labels || !(k in a.labels) || (v !== undefined && a.labels[k] !== v)) return false;
  }
  return true;
}

// One row. An Application that did not change keeps its summary object, so its row is not
// rendered again; `minute` moves once a minute so "last sync" stays right.
class Row extends Component<{ a: AppSummary; minute: number }> {
  shouldComponentUpdate(next: { a: AppSummary; minute: number }) {
    return next.a !== this.props.a || next.minute !== this.props.minute;
  }
  render() {
    const { a } = this.props;
    return (
      <tr data-app={a.name}>
        <td>
          <a href={href('applications', a.namespace, a.name)}>{a.name}</a>
          <div class="muted">{a.namespace}</div>
        </td>
        <td>{a.project}</td>
        <td>
          <Badge value={a.sync} />
          {a.syncing && <span class="muted"> syncing</span>}
        </td>
        <td>
          <Badge value={a.health} />
        </td>
        <td>
          {cluster(a)}
          <div class="muted">{a.destination.namespace}</div>
        </td>
        <td class="mono">{a.revision ?? '-'}</td>
        <td>{ago(a.lastSync)}</td>
      </tr>
    );
  }
}

function useMinute(): number {
  const [minute, setMinute] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setMinute((m) => m + 1), 60_000);
    return () => clearInterval(t);
  }, []);
  return minute;
}

const byName = (a: AppSummary, b: AppSummary) =>
  a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export function ApplicationsPage({ route }: { route: Route }) {
  const { items: apps, version, live } = useLiveList<AppSummary>('applications');
  const minute = useMinute();
  const q = route.query;
  const all = useMemo(() => [...(apps?.values() ?? [])].sort(byName), [version]);
  useLayoutEffect(() => {
    if (apps) performance.mark('sluice:list-rendered'); // for the bench's breakdown (test/bench/dashboard.ts)
  }, [!apps]);
  const shown = useMemo(() => all.filter((a) => matches(a, q)), [all, q.toString()]);
  const options = useMemo(() => {
    const o: Record<string, Set<string>> = {
      project: new Set(),
      sync: new Set(),
      health: new Set(),
      namespace: new Set(),
      cluster: new Set(),
      label: new Set(),
    };
    for (const a of all) {
      o.project.add(a.project);
      o.sync.add(a.sync);
      o.health.add(a.health);
      if (a.destination.namespace) o.namespace.add(a.destination.namespace);
      o.cluster.add(cluster(a));
      for (const [k, v] of Object.entries(a.labels ?? {})) o.label.add(`${k}=${v}`);
    }
    return o;
  }, [all]);
  const count = (field: 'sync' | 'health') => {
    const c = new Map<string, number>();
    for (const a of shown) c.set(a[field], (c.get(a[field]) ?? 0) + 1);
    return [...c].sort();
  };
  const tiles = q.get('view') === 'tiles';

  return (
    <div class="page" data-page="applications" data-loaded={apps ? 'true' : 'false'}>
      <header class="page-head">
        <h1>Applications</h1>
        <span class={`live ${live ? 'on' : ''}`}>{live ? 'live' : 'connecting…'}</span>
        <span class="spacer" />
        <button onClick={() => setQuery(route, { view: tiles ? undefined : 'tiles' })}>{tiles ? 'Table' : 'Tiles'}</button>
      </header>
      <div class="filters">
        <input placeholder="search name" value={q.get('q') ?? ''} onInput={(e) => setQuery(route, { q: (e.target as HTMLInputElement).value })} name="q" />
        {FILTERS.map((f) => (
          <select key={f} name={f} value={q.get(f) ?? ''} onChange={(e) => setQuery(route, { [f]: (e.target as HTMLSelectElement).value })}>
            <option value="">{f}: all</option>
            {[...options[f]].sort().map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        ))}
      </div>
      <div class="counts">
        <span>
          {shown.length} of {all.length}
        </span>
        {[...count('sync'), ...count('health')].map(([s, n]) => (
          <span key={s} class="count" data-count={s}>
            <Badge value={s} /> {n}
          </span>
        ))}
      </div>
      {!apps ? (
        <p>Loading…</p>
      ) : tiles ? (
        <div class="tiles">
          {shown.map((a) => (
            <a key={`${a.namespace}/${a.name}`} class="tile" href={href('applications', a.namespace, a.name)} data-app={a.name}>
              <strong>{a.name}</strong>
              <span class="muted">
                {a.namespace} · {a.project}
              </span>
              <span>
                <Badge value={a.health} /> <Badge value={a.sync} />
              </span>
              <span class="muted">→ {a.destination.namespace}</span>
            </a>
          ))}
        </div>
      ) : (
        <table class="list long apps">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>Sync</th>
              <th>Health</th>
              <th>Destination</th>
              <th>Revision</th>
              <th>Last sync</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <Row key={`${a.namespace}/${a.name}`} a={a} minute={minute} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
