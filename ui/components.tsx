// Small pieces every page uses: status badges, action buttons that say why they are
// unavailable, a confirm dialog and relative times.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

const COLOURS: Record<string, string> = {
  Healthy: 'ok',
  Synced: 'ok',
  Succeeded: 'ok',
  Successful: 'ok',
  Running: 'ok',
  Progressing: 'info',
  Paused: 'warn',
  Suspended: 'warn',
  OutOfSync: 'warn',
  Inconclusive: 'warn',
  Pending: 'info',
  Degraded: 'bad',
  Failed: 'bad',
  Error: 'bad',
  Missing: 'warn',
  Aborted: 'bad',
  Terminating: 'info',
};

export function Badge({ value, title }: { value?: string; title?: string }) {
  const v = value || 'Unknown';
  return (
    <span class={`badge ${COLOURS[v] ?? 'unknown'}`} title={title} data-status={v}>
      {v}
    </span>
  );
}

export function ago(iso?: string): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** A button bound to an action: disabled (with the reason as a tooltip) when the token may not take it, busy while it runs. */
export function Action(props: {
  label: string;
  allowed: boolean | undefined;
  run: () => Promise<unknown>;
  confirm?: string;
  danger?: boolean;
  onResult: (message: string, error?: boolean) => void;
  name?: string;
  /** Why it is unavailable when `allowed` is false (default: the account may not). */
  reason?: string;
}) {
  const [busy, setBusy] = useState(false);
  const allowed = props.allowed === true;
  const click = async () => {
    if (props.confirm && !confirm(props.confirm)) return;
    setBusy(true);
    try {
      const r: any = await props.run();
      props.onResult(r?.message ?? `${props.label}: done`);
    } catch (err) {
      props.onResult(`${props.label}: ${(err as Error).message}`, true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      class={props.danger ? 'danger' : ''}
      disabled={!allowed || busy}
      data-action={props.name ?? props.label}
      title={props.allowed === false ? (props.reason ?? 'your account may not do this') : undefined}
      onClick={click}
    >
      {busy ? '…' : props.label}
    </button>
  );
}

export function Panel({ title, children, right }: { title: string; children: ComponentChildren; right?: ComponentChildren }) {
  return (
    <section class="panel">
      <header>
        <h2>{title}</h2>
        {right}
      </header>
      {children}
    </section>
  );
}

export function Message({ text, error }: { text?: string; error?: boolean }) {
  if (!text) return null;
  return (
    <div class={`message ${error ? 'error' : ''}`} role="status">
      {text}
    </div>
  );
}

export function temporalLink(settings: { temporalUiUrl?: string; temporalNamespace?: string } | undefined, workflowId: string) {
  if (!settings?.temporalUiUrl) return null;
  const url = `${settings.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(settings.temporalNamespace ?? 'default')}/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`;
  return (
    <a class="temporal" href={url} target="_blank" rel="noopener noreferrer">
      Workflow in Temporal UI ↗
    </a>
  );
}
