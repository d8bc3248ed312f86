// Metrics read off the objects' status as the API's watches see it change: a step
// entered, an analysis metric decided, a sync operation finished. The workflows
// project these onto status anyway, so counting here needs nothing from workflow
// code (which replays) and nothing from activities. Each replica counts what it sees;
// query rates per instance, or max by the object's labels.
import type { KubeObject } from '../k8s/kube-client';
import { recordAnalysisResult, recordMeasurement, recordStepTransition, recordSyncOperation } from './metrics';
import { DEFAULT_PROJECT } from '../domain/argo/names';

const TERMINAL_ANALYSIS = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);
const TERMINAL_OPERATION = new Set(['Succeeded', 'Failed', 'Error', 'Terminated']);

export function onRolloutEvent(obj: KubeObject, previous: KubeObject | undefined): void {
  const step = obj.status?.currentStepIndex as number | undefined;
  if (step === undefined || !previous || previous.status?.currentStepIndex === step) return;
  recordStepTransition(obj.metadata.namespace!, obj.metadata.name, step);
}

/** The measured number, from Argo's value strings: "0.01", "[0.01]", "[0.01 0.02]" (first). */
export function measuredNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(value);
  return m ? Number(m[0]) : undefined;
}

export function onAnalysisRunEvent(obj: KubeObject, previous: KubeObject | undefined): void {
  const ns = obj.metadata.namespace!;
  const before = new Map<string, Record<string, any>>(((previous?.status?.metricResults ?? []) as Record<string, any>[]).map((m) => [m.name, m]));
  const specs = new Map<string, Record<string, any>>(((obj.spec?.metrics ?? []) as Record<string, any>[]).map((m) => [m.name, m]));
  for (const m of (obj.status?.metricResults ?? []) as Record<string, any>[]) {
    const old = before.get(m.name);
    const measurements = (m.measurements ?? []) as Record<string, any>[];
    const last = measurements[measurements.length - 1];
    const oldLast = (old?.measurements ?? [])[(old?.measurements ?? []).length - 1];
    if (last?.finishedAt && last.finishedAt !== oldLast?.finishedAt) {
      const value = measuredNumber(last.value);
      if (value !== undefined) recordMeasurement(ns, obj.metadata.name, m.name, value);
    }
    if (TERMINAL_ANALYSIS.has(m.phase) && !TERMINAL_ANALYSIS.has(old?.phase)) {
      const provider = Object.keys(specs.get(m.name)?.provider ?? {})[0] ?? 'unknown';
      recordAnalysisResult(ns, provider, m.phase);
    }
  }
}

export function onApplicationEvent(obj: KubeObject, previous: KubeObject | undefined): void {
  const op = obj.status?.operationState;
  if (!op?.finishedAt || !TERMINAL_OPERATION.has(op.phase) || previous?.status?.operationState?.finishedAt === op.finishedAt) return;
  const seconds = Math.max(0, (Date.parse(op.finishedAt) - Date.parse(op.startedAt ?? op.finishedAt)) / 1000);
  recordSyncOperation(obj.metadata.namespace!, obj.metadata.name, obj.spec?.project || DEFAULT_PROJECT, op.phase, Number.isFinite(seconds) ? seconds : 0);
}
