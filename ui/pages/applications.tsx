// Every Application the token may read, live from the stream: counts per status,
// filters kept in the URL, tiles or a table.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { stream } from '../api';
import { ago, Badge } from '../components';
import { href, setQuery, type Route } from '../router';

export interface AppSummary {
  namespace: string;
  name: string;
  project: string;
  sync: string;
  health: string;
  source?: string;
  targetRevision?: string;
  destination: { server?: string; name?: string; namespace?: string };
  revision?: string;
  lastSync?: string;
  operation?: string;
  labels?: Record<string, string>;
  conditions?: number;
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

export function ApplicationsPage({ route }: { route: Route }) {
  const [apps, setApps] = useState<Map<string, AppSummary>>();
  const [live, setLive] = useState(false);
  useEffect(
    () =>
      stream(
        'applications',
        {
          applications: (d: { items: AppSummary[] }) => setApps(new Map(d.items.map((a) => [`${a.namespace}/${a.name}`, a]))),
          'application-changes': (d: { changes: { key: string; item: AppSummary | null }[] }) =>
            setApps((prev) => {
              const next = new Map(prev);
              for (const c of d.changes) {
                if (c.item) next.set(c.key, c.item);
                else next.delete(c.key);
              }
              return next;
            }),
        },
        setLive,
      ),
    [],
  );
  const q = route.query;
  const all = useMemo(() => [...(apps?.values() ?? [])].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)), [apps]);
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
        <table class="list">
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
              <tr key={`${a.namespace}/${a.name}`} data-app={a.name}>
                <td>
                  <a href={href('applications', a.namespace, a.name)}>{a.name}</a>
                  <div class="muted">{a.namespace}</div>
                </td>
                <td>{a.project}</td>
                <td>
                  <Badge value={a.sync} />
                  {a.operation === 'Running' && <span class="muted"> syncing</span>}
                </td>
                <td>
                  <Badge value={a.health} />
                </td>
                <td>
                  {cluster(a)}
                  <div class="muted">{a.destination.namespace}</div>
                </td>
                <td class="mono">{a.revision?.slice(0, 7) ?? '-'}</td>
                <td>{ago(a.lastSync)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
