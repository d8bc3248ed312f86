// Checks a Rollout spec before anything is done for it. Each problem names the field,
// so the InvalidSpec condition tells the user exactly what to fix.
import { parseDuration, DurationError } from '../argo/duration';
import { isValidIntOrPercent } from '../argo/int-or-percent';
import { supportedRouters, trafficRouter } from './traffic/routers';
import type { CanaryStep, RolloutSpec } from './types';

export interface SpecProblem {
  field: string;
  message: string;
}

/** Step kinds Sluice runs; the rest are recognised Argo kinds it does not run yet. */
const RUNNABLE_STEPS = new Set(['setWeight', 'pause', 'setCanaryScale', 'analysis']);
const KNOWN_NOT_YET = new Set(['experiment', 'setHeaderRoute', 'setMirrorRoute', 'plugin']);

export function validateRolloutSpec(spec: RolloutSpec | undefined): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  if (!spec || typeof spec !== 'object') return [{ field: 'spec', message: 'spec is required' }];

  if (spec.workloadRef !== undefined) add('spec.workloadRef', 'workloadRef is not supported yet; give spec.template');
  if (!spec.selector || (!spec.selector.matchLabels && !spec.selector.matchExpressions)) add('spec.selector', 'spec.selector is required');
  if (!spec.template || typeof spec.template !== 'object') add('spec.template', 'spec.template is required');
  else {
    const labels = spec.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(spec.selector?.matchLabels ?? {})) {
      if (labels[k] !== v) add('spec.template.metadata.labels', `selector label ${k}=${v} does not match the template labels`);
    }
    if (!Array.isArray((spec.template.spec as { containers?: unknown } | undefined)?.containers)) {
      add('spec.template.spec.containers', 'spec.template.spec.containers is required');
    }
  }
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) {
    add('spec.replicas', `spec.replicas must be a non-negative integer, got ${JSON.stringify(spec.replicas)}`);
  }

  const strategy = spec.strategy ?? {};
  const { canary, blueGreen } = strategy;
  if (canary && blueGreen) add('spec.strategy', 'only one of spec.strategy.canary and spec.strategy.blueGreen may be set');
  if (!canary && !blueGreen) add('spec.strategy', 'one of spec.strategy.canary or spec.strategy.blueGreen is required');
  if (blueGreen) {
    if (!blueGreen.activeService) add('spec.strategy.blueGreen.activeService', 'activeService is required');
    if (blueGreen.previewService && blueGreen.previewService === blueGreen.activeService)
      add('spec.strategy.blueGreen.previewService', 'previewService must differ from activeService');
    for (const f of [
      'previewReplicaCount',
      'autoPromotionSeconds',
      'scaleDownDelaySeconds',
      'scaleDownDelayRevisionLimit',
      'abortScaleDownDelaySeconds',
    ] as const) {
      const v = blueGreen[f];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0))
        add(`spec.strategy.blueGreen.${f}`, `${f} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
    for (const f of ['prePromotionAnalysis', 'postPromotionAnalysis'] as const)
      if (blueGreen[f] !== undefined) validateAnalysis(blueGreen[f], `spec.strategy.blueGreen.${f}`, add);
  }
  for (const f of ['progressDeadlineSeconds', 'revisionHistoryLimit', 'minReadySeconds'] as const) {
    const v = spec[f];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0))
      add(`spec.${f}`, `${f} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }

  if (canary) {
    for (const f of ['maxSurge', 'maxUnavailable'] as const) {
      if (!isValidIntOrPercent(canary[f]))
        add(`spec.strategy.canary.${f}`, `${f} must be an integer or a percentage such as 25%, got ${JSON.stringify(canary[f])}`);
    }
    if (canary.trafficRouting) {
      for (const [name, config] of Object.entries(canary.trafficRouting)) {
        const field = `spec.strategy.canary.trafficRouting.${name}`;
        const router = trafficRouter(name);
        if (!router) add(field, `the ${name} traffic router is not supported yet (supported: ${supportedRouters().join(', ')})`);
        else problems.push(...router.validate(config, field));
      }
      if (!canary.canaryService) add('spec.strategy.canary.canaryService', 'canaryService is required with trafficRouting');
      if (!canary.stableService) add('spec.strategy.canary.stableService', 'stableService is required with trafficRouting');
    }
    if (canary.canaryService && canary.canaryService === canary.stableService)
      add('spec.strategy.canary.canaryService', 'canaryService must differ from stableService');
    (canary.steps ?? []).forEach((step, i) => validateStep(step, `spec.strategy.canary.steps[${i}]`, add));
    validateCanaryScaling(canary, add);
    if (canary.analysis !== undefined) validateAnalysis(canary.analysis, 'spec.strategy.canary.analysis', add);
  }
  return problems;
}

function validateAnalysis(analysis: unknown, field: string, add: (field: string, message: string) => void): void {
  const templates = (analysis as { templates?: unknown } | null)?.templates;
  if (!Array.isArray(templates) || templates.length === 0) return add(`${field}.templates`, 'at least one template is required');
  templates.forEach((t, i) => {
    if (!t || typeof (t as { templateName?: unknown }).templateName !== 'string') add(`${field}.templates[${i}].templateName`, 'templateName is required');
  });
}

/** Services the strategy names must exist: a missing one is a spec problem, named. */
export function validateServices(spec: RolloutSpec, existing: { name: string; exists: boolean }[]): SpecProblem[] {
  const named: [string, string | undefined][] = [
    ['spec.strategy.blueGreen.activeService', spec.strategy?.blueGreen?.activeService],
    ['spec.strategy.blueGreen.previewService', spec.strategy?.blueGreen?.previewService],
    ['spec.strategy.canary.canaryService', spec.strategy?.canary?.canaryService],
    ['spec.strategy.canary.stableService', spec.strategy?.canary?.stableService],
  ];
  return named
    .filter(([, name]) => name && !existing.some((s) => s.name === name && s.exists))
    .map(([field, name]) => ({ field, message: `Service "${name}" not found` }));
}

/** Argo's rules: setCanaryScale and dynamicStableScale need a traffic router. */
function validateCanaryScaling(canary: NonNullable<NonNullable<RolloutSpec['strategy']>['canary']>, add: (field: string, message: string) => void): void {
  const routed = canary.trafficRouting !== undefined && canary.trafficRouting !== null;
  if (!routed && (canary.steps ?? []).some((s) => s && typeof s === 'object' && s.setCanaryScale !== undefined)) {
    add('spec.strategy.canary.trafficRouting', 'setCanaryScale steps require trafficRouting');
  }
  if (canary.dynamicStableScale !== undefined && typeof canary.dynamicStableScale !== 'boolean') {
    add('spec.strategy.canary.dynamicStableScale', `dynamicStableScale must be true or false, got ${JSON.stringify(canary.dynamicStableScale)}`);
  } else if (canary.dynamicStableScale && !routed) {
    add('spec.strategy.canary.dynamicStableScale', 'dynamicStableScale can only be used with trafficRouting');
  } else if (canary.dynamicStableScale && canary.scaleDownDelaySeconds !== undefined) {
    add('spec.strategy.canary.dynamicStableScale', 'dynamicStableScale cannot be used with scaleDownDelaySeconds');
  }
  const minPods = canary.minPodsPerReplicaSet;
  if (minPods !== undefined && (typeof minPods !== 'number' || !Number.isInteger(minPods) || minPods < 0)) {
    add('spec.strategy.canary.minPodsPerReplicaSet', `minPodsPerReplicaSet must be a non-negative integer, got ${JSON.stringify(minPods)}`);
  }
}

function validateStep(step: CanaryStep, field: string, add: (field: string, message: string) => void): void {
  if (!step || typeof step !== 'object') {
    add(field, 'a step must be an object such as {setWeight: 20} or {pause: {}}');
    return;
  }
  const kinds = Object.keys(step);
  if (kinds.length !== 1) {
    add(field, kinds.length === 0 ? 'the step is empty' : `a step has exactly one kind, got ${kinds.join(', ')}`);
    return;
  }
  const kind = kinds[0];
  if (KNOWN_NOT_YET.has(kind)) return add(`${field}.${kind}`, `${kind} steps are not supported yet`);
  if (!RUNNABLE_STEPS.has(kind))
    return add(`${field}.${kind}`, `unknown step kind "${kind}"; expected one of setWeight, pause, setCanaryScale, analysis, experiment`);
  if (kind === 'setWeight') {
    const w = step.setWeight;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 100)
      add(`${field}.setWeight`, `setWeight must be an integer from 0 to 100, got ${JSON.stringify(w)}`);
  }
  if (kind === 'pause') {
    const pause = step.pause;
    if (pause === null || typeof pause !== 'object') return add(`${field}.pause`, 'pause must be an object, {} or {duration: 30s}');
    if (pause.duration !== undefined) {
      try {
        parseDuration(pause.duration);
      } catch (err) {
        add(`${field}.pause.duration`, err instanceof DurationError ? err.message : String(err));
      }
    }
  }
  if (kind === 'analysis') validateAnalysis(step.analysis, `${field}.analysis`, add);
  if (kind === 'setCanaryScale') {
    const scs = step.setCanaryScale as Record<string, unknown> | null;
    if (scs === null || typeof scs !== 'object')
      return add(`${field}.setCanaryScale`, 'setCanaryScale must be an object: {weight: N}, {replicas: N} or {matchTrafficWeight: true}');
    if (scs.weight !== undefined && (typeof scs.weight !== 'number' || !Number.isInteger(scs.weight) || scs.weight < 0 || scs.weight > 100)) {
      add(`${field}.setCanaryScale.weight`, `weight must be an integer from 0 to 100, got ${JSON.stringify(scs.weight)}`);
    }
    if (scs.replicas !== undefined && (typeof scs.replicas !== 'number' || !Number.isInteger(scs.replicas) || scs.replicas < 0)) {
      add(`${field}.setCanaryScale.replicas`, `replicas must be a non-negative integer, got ${JSON.stringify(scs.replicas)}`);
    }
    if (scs.matchTrafficWeight !== undefined && typeof scs.matchTrafficWeight !== 'boolean') {
      add(`${field}.setCanaryScale.matchTrafficWeight`, `matchTrafficWeight must be true or false, got ${JSON.stringify(scs.matchTrafficWeight)}`);
    }
  }
}
