// status.conditions of an ApplicationSet as Argo's controller writes them
// (setApplicationSetStatusCondition), with lastTransitionTime kept while a status holds.

export interface ApplicationSetCondition {
  type: 'ErrorOccurred' | 'ParametersGenerated' | 'ResourcesUpToDate' | 'RolloutProgressing';
  status: 'True' | 'False';
  message: string;
  reason: string;
  lastTransitionTime?: string;
}

export type PassResult =
  | { ok: true }
  /** parametersGenerated: generation worked, but validation or applying did not. */
  | { ok: false; message: string; reason: string; parametersGenerated: boolean };

export function passConditions(result: PassResult, previous: readonly ApplicationSetCondition[], now: string): ApplicationSetCondition[] {
  const next: ApplicationSetCondition[] = result.ok
    ? [
        { type: 'ErrorOccurred', status: 'False', message: 'Successfully generated parameters for all Applications', reason: 'ApplicationSetUpToDate' },
        { type: 'ParametersGenerated', status: 'True', message: 'Successfully generated parameters for all Applications', reason: 'ParametersGenerated' },
        { type: 'ResourcesUpToDate', status: 'True', message: 'All applications have been generated successfully', reason: 'ApplicationSetUpToDate' },
      ]
    : [
        { type: 'ErrorOccurred', status: 'True', message: result.message, reason: result.reason },
        result.parametersGenerated
          ? { type: 'ParametersGenerated', status: 'True', message: 'Successfully generated parameters for all Applications', reason: 'ParametersGenerated' }
          : { type: 'ParametersGenerated', status: 'False', message: result.message, reason: 'ErrorOccurred' },
        { type: 'ResourcesUpToDate', status: 'False', message: result.message, reason: 'ErrorOccurred' },
      ];
  const kept = previous.filter((p) => !next.some((n) => n.type === p.type));
  return [
    ...next.map((c) => {
      const before = previous.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now };
    }),
    ...kept,
  ];
}

/** status.resources: one entry per Application the ApplicationSet controls. */
export function resourcesStatus(namespace: string, apps: readonly { name: string; health?: string; sync?: string }[]) {
  return apps.map((a) => ({
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Application',
    namespace,
    name: a.name,
    ...(a.sync ? { status: a.sync } : {}),
    ...(a.health ? { health: { status: a.health } } : {}),
  }));
}
