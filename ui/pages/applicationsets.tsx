// ApplicationSets: the list, live, and one set, live, with its generated Applications (their
// sync and health from the Applications stream), RollingSync progress, conditions, and a
// preview of what an edited spec would generate (nothing applied).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, stream } from '../api';
import { Action, Badge, Message, Panel } from '../components';
import { liveListHandlers, useLiveList } from '../live';
import { href } from '../router';
import type { AppSummary } from './applications';

interface AppSetSummary {
  namespace: string;
  name: string;
  project: string;
  conditions: string[];
  applications: number;
}

export function ApplicationSetsPage() {
  const { items: byKey, version, live } = useLiveList<AppSetSummary>('applicationsets');
  const items = useMemo(() => byKey && [...byKey.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)), [version]);
  return (
    <div class="page" data-page="applicationsets" data-loaded={items ? 'true' : 'false'}>
      <header class="page-head">
        <h1>ApplicationSets</h1>
        <span class={`live ${live ? 'on' : ''}`}>{live ? 'live' : 'connecting…'}</span>
      </header>
      {items && (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>Applications</th>
              <th>Conditions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={`${s.namespace}/${s.name}`} data-appset={s.name}>
                <td>
                  <a href={href('applicationsets', s.namespace, s.name)}>{s.name}</a>
                  <div class="muted">{s.namespace}</div>
                </td>
                <td>{s.project}</td>
                <td>{s.applications}</td>
                <td>{s.conditions.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function ApplicationSetPage({ namespace, name }: { namespace: string; name: string }) {
  const [set, setSet] = useState<any>();
  const [gone, setGone] = useState(false);
  const [apps, setApps] = useState<{ items: Map<string, AppSummary> }>({ items: new Map() });
  const [draft, setDraft] = useState<string>();
  const [preview, setPreview] = useState<any>();
  const [msg, setMsg] = useState<{ text: string; error?: boolean }>();
  const [can, setCan] = useState<Record<string, boolean>>();

  useEffect(() => {
    api('GET', `/api/v1/namespaces/${enc(namespace)}/applicationsets/${enc(name)}/permissions`).then(
      (r) => setCan(r.actions),
      () => setCan({}),
    );
  }, [namespace, name]);
  useEffect(
    () =>
      // The set itself (status, RollingSync) and the generated Applications' sync and health, as they change.
      stream(`applicationset/${namespace}/${name},applications`, {
        object: (d: { object: any }) => {
          setGone(!d.object);
          setSet(d.object ?? undefined);
          // The editor starts from the spec as first seen and is not overwritten while being edited.
          if (d.object) setDraft((prev) => prev ?? JSON.stringify(d.object.spec, null, 2));
        },
        ...liveListHandlers<AppSummary>('applications', (update) => setApps((prev) => ({ items: update(prev.items) }))),
      }),
    [namespace, name],
  );

  if (gone)
    return (
      <p>
        ApplicationSet {namespace}/{name} not found, or not yours to see.
      </p>
    );
  if (!set) return <p>Loading…</p>;
  const status = set.status ?? {};
  const generated: any[] = status.resources ?? [];
  const rolling: any[] = status.applicationStatus ?? [];
  const runPreview = async () => {
    let spec: unknown;
    try {
      spec = JSON.parse(draft ?? '');
    } catch (e) {
      throw new Error(`the spec is not JSON: ${(e as Error).message}`, { cause: e });
    }
    const r = await api('POST', '/api/v1/applicationsets/generate', { applicationSet: { ...set, spec } });
    setPreview(r);
    return { message: r.error ? `preview: ${r.error}` : `preview: ${r.applications.length} Applications` };
  };
  return (
    <div class="page" data-page="applicationset" data-permissions={can ? 'loaded' : undefined}>
      <header class="page-head">
        <h1>
          <a href="#/applicationsets">ApplicationSets</a> / {name}
        </h1>
      </header>
      {(status.conditions ?? []).length > 0 && (
        <Panel title="Conditions">
          {status.conditions.map((c: any) => (
            <p key={c.type} class="condition">
              <strong>{c.type}</strong> {c.status} {c.message}
            </p>
          ))}
        </Panel>
      )}
      <Panel title="Generated Applications">
        <table class="list">
          <thead>
            <tr>
              <th>Application</th>
              <th>Sync</th>
              <th>Health</th>
              <th>RollingSync step</th>
              <th>RollingSync status</th>
            </tr>
          </thead>
          <tbody>
            {generated.map((r) => {
              const live = apps.items.get(`${r.namespace ?? namespace}/${r.name}`);
              const rs = rolling.find((x) => x.application === r.name);
              return (
                <tr key={r.name} data-app={r.name}>
                  <td>
                    <a href={href('applications', r.namespace ?? namespace, r.name)}>{r.name}</a>
                  </td>
                  <td>
                    <Badge value={live?.sync ?? r.status} />
                  </td>
                  <td>
                    <Badge value={live?.health ?? r.health?.status} />
                  </td>
                  <td>{rs?.step ?? '-'}</td>
                  <td>{rs ? <Badge value={rs.status} title={rs.message} /> : '-'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Panel>
      <Panel title="Preview a change">
        <textarea class="spec" rows={14} value={draft ?? ''} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} name="spec" />
        <div class="actions">
          <Action
            label="Preview"
            name="preview"
            allowed={can?.create}
            reason="a preview needs the permission to create this ApplicationSet"
            run={runPreview}
            onResult={(text, err) => setMsg({ text, error: err })}
          />
        </div>
        <Message text={msg?.text} error={msg?.error} />
        {preview?.applications && (
          <ul>
            {preview.applications.map((a: any) => (
              <li key={a.metadata.name} class="mono">
                {a.metadata.name} → {a.spec?.destination?.name ?? a.spec?.destination?.server} / {a.spec?.destination?.namespace}
                {apps.items.has(`${a.metadata.namespace}/${a.metadata.name}`) ? '' : ' (new)'}
              </li>
            ))}
          </ul>
        )}
      </Panel>
    </div>
  );
}
