// One Application: its resource tree, the diff of what is out of sync, conditions, the
// operation in progress, history with rollback, and the buttons Argo CD's UI has.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc, stream } from '../api';
import { Action, ago, Badge, Message, Panel, temporalLink } from '../components';
import type { Settings } from '../main';

interface TreeNode {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
  parent?: string;
  health?: string;
  healthMessage?: string;
  sync?: string;
  info?: string;
}

const nodeKey = (n: TreeNode) => `${n.kind}/${n.namespace ?? ''}/${n.name}`;

/** Argo's resource selector for a partial sync: group/Kind/namespace/name. */
const selector = (n: TreeNode) => `${n.group}/${n.kind}/${n.namespace ?? ''}/${n.name}`;

function Tree({ nodes, selected, toggle, selectable }: { nodes: TreeNode[]; selected: Set<string>; toggle: (sel: string) => void; selectable: boolean }) {
  const children = new Map<string | undefined, TreeNode[]>();
  for (const n of nodes) children.set(n.parent, [...(children.get(n.parent) ?? []), n]);
  const branch = (parent: string | undefined, depth: number): preact.JSX.Element[] =>
    (children.get(parent) ?? []).flatMap((n) => [
      <div
        key={nodeKey(n)}
        class="node"
        style={{ paddingLeft: `${depth * 1.5}em` }}
        data-node={`${n.kind}/${n.name}`}
        data-health={n.health}
        data-sync={n.sync}
      >
        {!n.parent && (
          <input
            type="checkbox"
            title="sync only the selected resources"
            disabled={!selectable}
            checked={selected.has(selector(n))}
            onChange={() => toggle(selector(n))}
          />
        )}{' '}
        <span class="kind">{n.kind}</span> <span class="mono">{n.name}</span> {n.health && <Badge value={n.health} title={n.healthMessage} />}{' '}
        {n.sync && <Badge value={n.sync} />} {n.info && <span class="muted">{n.info}</span>}
      </div>,
      ...branch(nodeKey(n), depth + 1),
    ]);
  return (
    <div class="tree">
      <div class="node root">Application</div>
      {branch(undefined, 1)}
    </div>
  );
}

export function ApplicationPage({ namespace, name, settings }: { namespace: string; name: string; settings?: Settings }) {
  const base = `/api/v1/namespaces/${enc(namespace)}/applications/${enc(name)}`;
  const [app, setApp] = useState<any>();
  const [gone, setGone] = useState(false);
  const [tree, setTree] = useState<TreeNode[]>([]);
  const [diff, setDiff] = useState<string>();
  // What the token may do to this app; undefined until the API has answered (every control disabled until then).
  const [can, setCan] = useState<Record<string, boolean>>();
  const [msg, setMsg] = useState<{ text: string; error?: boolean }>();
  const [opts, setOpts] = useState({ prune: false, dryRun: false, revision: '' });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const toggle = (sel: string) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(sel)) next.delete(sel);
      else next.add(sel);
      return next;
    });
  const treeTimer = useRef<number | undefined>(undefined);
  const lastDiffKey = useRef('');

  useEffect(() => {
    api('GET', `${base}/permissions`).then(
      (r) => setCan(r.actions),
      () => setCan({}),
    );
    return stream(`application/${namespace}/${name}`, {
      object: (d: { object: any }) => {
        setGone(!d.object);
        setApp(d.object ?? undefined);
        if (!d.object) return;
        // The tree includes live ReplicaSets and Pods: read again after the Application changes, at most every 300 ms.
        clearTimeout(treeTimer.current);
        treeTimer.current = window.setTimeout(
          () =>
            api('GET', `${base}/resource-tree`).then(
              (r) => setTree(r.nodes),
              () => undefined,
            ),
          300,
        );
        const s = d.object.status ?? {};
        const diffKey = `${s.sync?.status}/${s.sync?.revision}/${s.reconciledAt}`;
        if (diffKey !== lastDiffKey.current) {
          lastDiffKey.current = diffKey;
          if (s.sync?.status === 'OutOfSync')
            api('GET', `${base}/diff`).then(
              (r) => setDiff(r.diff),
              (e) => setDiff(`(diff unavailable: ${e.message})`),
            );
          else setDiff(undefined);
        }
      },
    });
  }, [namespace, name]);

  const result = (text: string, error?: boolean) => setMsg({ text, error });
  if (gone)
    return (
      <p>
        Application {namespace}/{name} not found, or not yours to see.
      </p>
    );
  if (!app) return <p>Loading…</p>;
  const status = app.status ?? {};
  const op = status.operationState;
  const running = op?.phase === 'Running' || op?.phase === 'Terminating';
  const history: any[] = [...(status.history ?? [])].reverse();
  const post = (path: string, body?: unknown) => () => api('POST', `${base}/${path}`, body ?? {});
  const may = can ?? {};
  // Argo CD's RBAC lets whoever may `get` an app refresh it, and the API does too; but the page is
  // live already, so Refresh is offered only to accounts that may change the app, and a read-only
  // account sees no active button at all (the CLI's `sluice app get --refresh` still works for it).
  const mayChange = can && !!(can.sync || can.update);
  const refreshReason = 'read-only: this page updates by itself; refresh is offered to accounts that may sync or update the app';

  return (
    <div class="page" data-page="application" data-sync={status.sync?.status} data-health={status.health?.status} data-permissions={can ? 'loaded' : undefined}>
      <header class="page-head">
        <h1>
          <a href="#/applications">Applications</a> / {name}
        </h1>
        <Badge value={status.health?.status} title={status.health?.message} />
        <Badge value={status.sync?.status} />
        <span class="spacer" />
        {temporalLink(settings, `application/${namespace}/${name}`)}
      </header>
      <div class="summary">
        <span>namespace {namespace}</span>
        <span>project {app.spec?.project || 'default'}</span>
        <span>
          → {app.spec?.destination?.name ?? app.spec?.destination?.server} / {app.spec?.destination?.namespace}
        </span>
        <span class="mono">revision {status.sync?.revision?.slice(0, 7) ?? '-'}</span>
        <span>reconciled {ago(status.reconciledAt)}</span>
      </div>
      <div class="actions">
        <Action label="Refresh" name="refresh" allowed={mayChange} reason={refreshReason} run={post('refresh', { hard: false })} onResult={result} />
        <Action label="Hard refresh" name="hard-refresh" allowed={mayChange} reason={refreshReason} run={post('refresh', { hard: true })} onResult={result} />
        <span class="group">
          <Action
            label={selected.size ? `Sync ${selected.size} selected` : 'Sync'}
            name="sync"
            allowed={may.sync}
            run={post('sync', {
              prune: opts.prune,
              dryRun: opts.dryRun,
              ...(opts.revision ? { revision: opts.revision } : {}),
              ...(selected.size ? { resources: [...selected] } : {}),
            })}
            onResult={result}
          />
          <label>
            <input
              type="checkbox"
              name="prune"
              disabled={!may.sync}
              checked={opts.prune}
              onChange={(e) => setOpts({ ...opts, prune: (e.target as HTMLInputElement).checked })}
            />{' '}
            prune
          </label>
          <label>
            <input
              type="checkbox"
              name="dryRun"
              disabled={!may.sync}
              checked={opts.dryRun}
              onChange={(e) => setOpts({ ...opts, dryRun: (e.target as HTMLInputElement).checked })}
            />{' '}
            dry run
          </label>
          <input
            name="revision"
            disabled={!may.sync}
            placeholder="revision"
            size={10}
            value={opts.revision}
            onInput={(e) => setOpts({ ...opts, revision: (e.target as HTMLInputElement).value })}
          />
        </span>
        <Action label="Terminate" name="terminate" allowed={may.sync && running} run={post('terminate-operation')} onResult={result} />
        <Action
          label="Delete"
          name="delete"
          danger
          allowed={may.delete}
          confirm={`Delete application ${name} and its resources?`}
          run={() => api('DELETE', base)}
          onResult={result}
        />
      </div>
      <Message text={msg?.text} error={msg?.error} />
      {op && (
        <Panel title={`Operation: ${op.phase}`}>
          <p>
            {op.message} <span class="muted">started {ago(op.startedAt)}</span>
            {op.finishedAt && <span class="muted">, finished {ago(op.finishedAt)}</span>}
          </p>
          {(op.syncResult?.resources ?? []).length > 0 && (
            <table class="list">
              <thead>
                <tr>
                  <th>Kind</th>
                  <th>Name</th>
                  <th>Phase</th>
                  <th>Status</th>
                  <th>Message</th>
                </tr>
              </thead>
              <tbody>
                {op.syncResult.resources.map((r: any) => (
                  <tr key={`${r.kind}/${r.namespace}/${r.name}/${r.hookType ?? ''}`}>
                    <td>{r.kind}</td>
                    <td class="mono">{r.name}</td>
                    <td>{r.syncPhase ?? '-'}</td>
                    <td>
                      <Badge value={r.hookPhase ?? r.status} />
                    </td>
                    <td>{r.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
      )}
      {(status.conditions ?? []).length > 0 && (
        <Panel title="Conditions">
          {status.conditions.map((c: any) => (
            <p key={c.type} class="condition">
              <strong>{c.type}</strong> {c.message}
            </p>
          ))}
        </Panel>
      )}
      <Panel title="Resources">
        <Tree nodes={tree} selected={selected} toggle={toggle} selectable={!!may.sync} />
      </Panel>
      {diff !== undefined && (
        <Panel title="Diff (live → desired)">
          <pre class="diff">
            {diff.split('\n').map((l, i) => (
              <div key={i} class={l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}>
                {l}
              </div>
            ))}
          </pre>
        </Panel>
      )}
      <Panel title="History">
        <table class="list">
          <thead>
            <tr>
              <th>ID</th>
              <th>Revision</th>
              <th>Deployed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {history.map((h) => (
              <tr key={h.id}>
                <td>{h.id}</td>
                <td class="mono">{(h.revision ?? h.revisions?.[0] ?? '').slice(0, 7)}</td>
                <td>{ago(h.deployedAt)}</td>
                <td>
                  <Action
                    label="Rollback"
                    name={`rollback-${h.id}`}
                    allowed={may.sync && !app.spec?.syncPolicy?.automated}
                    confirm={`Roll ${name} back to history entry ${h.id}?`}
                    run={post('rollback', { id: h.id })}
                    onResult={result}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
