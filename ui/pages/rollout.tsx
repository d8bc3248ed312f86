// One Rollout, as the Argo Rollouts dashboard shows it but live and behind RBAC: the
// steps with the current one marked, weights, revisions with their ReplicaSets and pods,
// AnalysisRuns with a chart per metric, and the commands.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc, stream } from '../api';
import { Action, Badge, Message, Panel, temporalLink } from '../components';
import type { Settings } from '../main';

function describeStep(s: any): string {
  if (s.setWeight !== undefined) return `setWeight ${s.setWeight}%`;
  if (s.pause) return s.pause.duration !== undefined ? `pause ${s.pause.duration}` : 'pause (until promoted)';
  if (s.analysis) return `analysis ${(s.analysis.templates ?? []).map((t: any) => t.templateName).join(', ')}`;
  if (s.experiment) return 'experiment';
  if (s.setCanaryScale) return `setCanaryScale ${JSON.stringify(s.setCanaryScale)}`;
  if (s.setHeaderRoute) return `setHeaderRoute ${s.setHeaderRoute.name ?? ''}`;
  if (s.setMirrorRoute) return `setMirrorRoute ${s.setMirrorRoute.name ?? ''}`;
  if (s.plugin) return `plugin ${s.plugin.name ?? ''}`;
  return Object.keys(s)[0] ?? '?';
}

/** The numeric measurements of a metric as a line; non-numeric values are listed instead. */
function Chart({ values }: { values: number[] }) {
  if (values.length < 1) return null;
  const w = 240;
  const h = 48;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const pts = values
    .map((v, i) => `${values.length === 1 ? w / 2 : 4 + (i / (values.length - 1)) * (w - 8)},${h - 4 - ((v - min) / span) * (h - 8)}`)
    .join(' ');
  return (
    <svg class="chart" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`measurements: ${values.join(', ')}`}>
      <polyline points={pts} fill="none" stroke="currentColor" stroke-width="2" />
      {values.map((v, i) => {
        const [x, y] = pts.split(' ')[i].split(',');
        return <circle key={i} cx={x} cy={y} r="2.5" />;
      })}
    </svg>
  );
}

export function RolloutPage({ namespace, name, settings }: { namespace: string; name: string; settings?: Settings }) {
  const base = `/api/v1/namespaces/${enc(namespace)}/rollouts/${enc(name)}`;
  const [ro, setRo] = useState<any>();
  const [gone, setGone] = useState(false);
  const [tree, setTree] = useState<any>();
  // Which commands the token may run; undefined until the API has answered (every control disabled until then).
  const [can, setCan] = useState<Record<string, boolean>>();
  const [msg, setMsg] = useState<{ text: string; error?: boolean }>();
  const [image, setImage] = useState({ container: '', image: '' });
  const [undoTo, setUndoTo] = useState('');
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    api('GET', `${base}/permissions`).then(
      (r) => setCan(r.actions),
      () => setCan({}),
    );
    return stream(`rollout/${namespace}/${name}`, {
      object: (d: { object: any }) => {
        setGone(!d.object);
        setRo(d.object ?? undefined);
        if (!d.object) return;
        // Revisions, ReplicaSets, pods and AnalysisRuns: read again after each change, at most every 200 ms.
        clearTimeout(timer.current);
        timer.current = window.setTimeout(() => api('GET', `${base}/tree`).then(setTree, () => undefined), 200);
      },
    });
  }, [namespace, name]);

  const result = (text: string, error?: boolean) => setMsg({ text, error });
  if (gone)
    return (
      <p>
        Rollout {namespace}/{name} not found, or not yours to see.
      </p>
    );
  if (!ro) return <p>Loading…</p>;
  const status = ro.status ?? {};
  const steps: any[] = ro.spec?.strategy?.canary?.steps ?? [];
  const current: number = status.currentStepIndex ?? 0;
  const t = tree?.tree;
  const containers: string[] = (ro.spec?.template?.spec?.containers ?? []).map((c: any) => c.name);
  const post = (path: string, body?: unknown) => () => api('POST', `${base}/${path}`, body ?? {});
  const may = can ?? {};
  const runs = (t?.revisions ?? []).flatMap((r: any) => r.analysisRuns.map((a: any) => ({ ...a, revision: r.revision })));

  return (
    <div class="page" data-page="rollout" data-phase={status.phase} data-step={current} data-permissions={can ? 'loaded' : undefined}>
      <header class="page-head">
        <h1>
          <a href="#/rollouts">Rollouts</a> / {name}
        </h1>
        <Badge value={status.phase} title={status.message} />
        <span class="spacer" />
        {temporalLink(settings, `rollout/${namespace}/${name}`)}
      </header>
      <div class="summary">
        <span>namespace {namespace}</span>
        <span>strategy {ro.spec?.strategy?.canary ? 'Canary' : ro.spec?.strategy?.blueGreen ? 'BlueGreen' : '-'}</span>
        {t?.setWeight !== undefined && (
          <span data-weight={t.setWeight}>
            weight set {t.setWeight}% / actual {t.actualWeight ?? '-'}%
          </span>
        )}
        <span>
          ready {status.readyReplicas ?? 0}/{ro.spec?.replicas ?? 1}
        </span>
        {status.message && <span class="muted">{status.message}</span>}
      </div>
      <div class="actions">
        <Action label="Promote" name="promote" allowed={may.promote} run={post('promote')} onResult={result} />
        <Action label="Promote full" name="promote-full" allowed={may['promote-full']} run={post('promote', { full: true })} onResult={result} />
        <Action label="Abort" name="abort" danger allowed={may.abort} run={post('abort')} onResult={result} />
        <Action label="Retry" name="retry" allowed={may.retry} run={post('retry')} onResult={result} />
        <Action label="Restart" name="restart" allowed={may.restart} confirm={`Restart the pods of ${name}?`} run={post('restart')} onResult={result} />
        <span class="group">
          <select name="undo-revision" disabled={!may.undo} value={undoTo} onChange={(e) => setUndoTo((e.target as HTMLSelectElement).value)}>
            <option value="">previous revision</option>
            {(t?.revisions ?? []).map((r: any) => (
              <option key={r.revision} value={String(r.revision)}>
                revision {r.revision}
              </option>
            ))}
          </select>
          <Action label="Undo" name="undo" allowed={may.undo} run={post('undo', undoTo ? { toRevision: Number(undoTo) } : {})} onResult={result} />
        </span>
        <span class="group">
          <select
            name="container"
            disabled={!may['set-image']}
            value={image.container || containers[0]}
            onChange={(e) => setImage({ ...image, container: (e.target as HTMLSelectElement).value })}
          >
            {containers.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <input
            name="image"
            disabled={!may['set-image']}
            placeholder="image:tag"
            value={image.image}
            onInput={(e) => setImage({ ...image, image: (e.target as HTMLInputElement).value })}
          />
          <Action
            label="Set image"
            name="set-image"
            allowed={may['set-image'] && !!image.image}
            run={post('set-image', { container: image.container || containers[0], image: image.image })}
            onResult={result}
          />
        </span>
      </div>
      <Message text={msg?.text} error={msg?.error} />
      {steps.length > 0 && (
        <Panel title="Steps">
          <ol class="steps">
            {steps.map((s, i) => (
              <li key={i} class={i < current ? 'done' : i === current ? 'current' : ''} data-step-index={i} aria-current={i === current ? 'step' : undefined}>
                {describeStep(s)}
              </li>
            ))}
          </ol>
        </Panel>
      )}
      <Panel title="Revisions">
        {(t?.revisions ?? []).map((r: any) => (
          <div key={r.revision} class="revision">
            <h3>revision {r.revision}</h3>
            {r.replicaSets.map((rs: any) => (
              <div key={rs.name} class="rs" data-rs={rs.hash}>
                <span class="mono">{rs.name}</span> <Badge value={rs.status} />{' '}
                {rs.roles.map((x: string) => (
                  <span class="role">{x}</span>
                ))}{' '}
                <span class="muted">
                  {rs.ready}/{rs.desired} ready · {rs.images.join(', ')}
                </span>
                <div class="pods">
                  {rs.pods.map((p: any) => (
                    <span key={p.name} class="pod" title={`${p.name}: ${p.status}, ${p.ready} ready, ${p.restarts} restarts`}>
                      <Badge value={p.status} />
                    </span>
                  ))}
                </div>
              </div>
            ))}
          </div>
        ))}
      </Panel>
      {runs.length > 0 && (
        <Panel title="AnalysisRuns">
          {runs.map((a: any) => (
            <div key={a.name} class="analysis" data-analysisrun={a.name}>
              <h3>
                <span class="mono">{a.name}</span> <Badge value={a.phase} title={a.message} /> <span class="muted">revision {a.revision}</span>
              </h3>
              {a.message && <p class="muted">{a.message}</p>}
              {a.metrics.map((m: any) => {
                const values = m.measurements.map((x: any) => Number(x.value)).filter((v: number) => Number.isFinite(v));
                return (
                  <div key={m.name} class="metric">
                    <strong>{m.name}</strong> <Badge value={m.phase} />{' '}
                    <span class="muted">
                      ✓{m.successful} ✗{m.failed} ?{m.inconclusive} !{m.error}
                    </span>
                    <Chart values={values} />
                    <span class="muted mono">{m.measurements.map((x: any) => x.value ?? x.phase).join(' · ')}</span>
                  </div>
                );
              })}
            </div>
          ))}
        </Panel>
      )}
    </div>
  );
}
