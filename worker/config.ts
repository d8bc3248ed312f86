// Process configuration from the environment, with the local stack's defaults.
export interface SluiceConfig {
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Watch one namespace only (tests); all namespaces when undefined. */
  watchNamespace?: string;
  apiHost: string;
  apiPort: number;
  maxCachedWorkflows: number;
  /** Where the API keeps accounts (sluice-cm), RBAC (sluice-rbac-cm) and tokens (sluice-tokens). */
  sluiceNamespace: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.SLUICE_TASK_QUEUE ?? 'sluice',
    watchNamespace: env.SLUICE_WATCH_NAMESPACE || undefined,
    apiHost: env.SLUICE_API_HOST ?? '127.0.0.1',
    apiPort: Number(env.SLUICE_API_PORT ?? 8080),
    maxCachedWorkflows: Number(env.SLUICE_MAX_CACHED_WORKFLOWS ?? 500),
    sluiceNamespace: env.SLUICE_NAMESPACE || 'sluice-system',
  };
}
