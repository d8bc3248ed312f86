// The search attributes every Sluice workflow carries, so Temporal UI can filter by
// object kind, namespace, name, phase and revision. The local Temporal registers them at
// start; the worker adds any that another Temporal lacks.
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Text' | 'Int'> = {
  SluiceKind: 'Keyword',
  SluiceNamespace: 'Keyword',
  SluiceName: 'Keyword',
  SluicePhase: 'Keyword',
  SluiceRevision: 'Keyword',
};
