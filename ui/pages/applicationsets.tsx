// ApplicationSets: the list, and one set with its generated Applications (their sync and
// health live from the Applications stream), RollingSync progress, conditions, and a
// preview of what an edited spec would generate (nothing applied).
import { useEffect, useState } from 'preact/hooks';
import { api, enc, stream } from '../api';
import { Action, Badge, Message, Panel } from '../components';
import { href } from '../router';
import type { AppSummary } from './applications';

export function ApplicationSetsPage() {
  const [items, setItems] = useState<any[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api('GET', '/api/v1/applicationsets').then(
      (r) => setItems(r.items),
      (e) => setError(e.message),
    );
  }, []);
  return (
    <div class="page" data-page="applicationsets" data-loaded={items ? 'true' : 'false'}>
      <header class="page-head">
        <h1>ApplicationSets</h1>
      </header>
      <Message text={error} error />
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
  const [error, setError] = useState<string>();
  const [apps, setApps] = useState<Map<string, AppSummary>>(new Map());
  const [draft, setDraft] = useState('');
  const [preview, setPreview] = useState<any>();
  const [msg, setMsg] = useState<{ text: string; error?: boolean }>();

  useEffect(() => {
    api('GET', `/api/v1/namespaces/${enc(namespace)}/applicationsets/${enc(name)}`).then(
      (r) => {
        setSet(r.applicationSet);
        setDraft(JSON.stringify(r.applicationSet.spec, null, 2));
      },
      (e) => setError(e.message),
    );
    // Generated Applications' sync and health, as they change.
    return stream('applications', {
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
    });
  }, [namespace, name]);

  if (error) return <Message text={error} error />;
  if (!set) return <p>Loading…</p>;
  const status = set.status ?? {};
  const generated: any[] = status.resources ?? [];
  const rolling: any[] = status.applicationStatus ?? [];
  const runPreview = async () => {
    let spec: unknown;
    try {
      spec = JSON.parse(draft);
    } catch (e) {
      throw new Error(`the spec is not JSON: ${(e as Error).message}`, { cause: e });
    }
    const r = await api('POST', '/api/v1/applicationsets/generate', { applicationSet: { ...set, spec } });
    setPreview(r);
    return { message: r.error ? `preview: ${r.error}` : `preview: ${r.applications.length} Applications` };
  };
  return (
    <div class="page" data-page="applicationset">
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
              const live = apps.get(`${r.namespace ?? namespace}/${r.name}`);
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
        <textarea class="spec" rows={14} value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} name="spec" />
        <div class="actions">
          <Action label="Preview" name="preview" allowed run={runPreview} onResult={(text, err) => setMsg({ text, error: err })} />
        </div>
        <Message text={msg?.text} error={msg?.error} />
        {preview?.applications && (
          <ul>
            {preview.applications.map((a: any) => (
              <li key={a.metadata.name} class="mono">
                {a.metadata.name} → {a.spec?.destination?.name ?? a.spec?.destination?.server} / {a.spec?.destination?.namespace}
                {apps.has(`${a.metadata.namespace}/${a.metadata.name}`) ? '' : ' (new)'}
              </li>
            ))}
          </ul>
        )}
      </Panel>
    </div>
  );
}
