// Process configuration from the environment, with the local stack's defaults.
import type { ApplicationTimings } from '../workflows/application';
import { SLUICE_NAMESPACE } from '../domain/argo/names';
import { temporalSettingsFromEnv, type TemporalSettings } from './temporal-connection';
export interface SluiceConfig {
  temporalAddress: string;
  temporalNamespace: string;
  /** TLS, API key and metadata from TEMPORAL_* / the TEMPORAL_CONFIG_FILE profile; plain gRPC when undefined. */
  temporalConnection?: Pick<TemporalSettings, 'options' | 'describe' | 'addressConfigured'>;
  taskQueue: string;
  /** Watch one namespace only (tests); all namespaces when undefined. */
  watchNamespace?: string;
  apiHost: string;
  apiPort: number;
  maxCachedWorkflows: number;
  /** Application reconcile period, jitter, hook and wave timeouts (SLUICE_APP_* seconds); defaults when unset. */
  applicationTimings?: Partial<ApplicationTimings>;
  /**
   * Argo CD and Argo Rollouts notifications: on by default, and free where nothing is
   * subscribed (no workflow is started); SLUICE_NOTIFICATIONS=off turns them off, for a
   * cluster where Argo's own notification controllers still run.
   */
  notifications?: boolean;
  /**
   * Syncs first: while this many Applications are syncing or not yet compared, notifications
   * wait for the burst to end, at most maxDelayMs (SLUICE_NOTIFICATIONS_DEFER_WHILE_SYNCING,
   * default 10, 0 for never; SLUICE_NOTIFICATIONS_MAX_DELAY_SECONDS, default 120: long enough
   * that a burst of 1,000 Applications ends before the first held wake-ups are let go, since
   * every one let go during the burst slows it down; see NOTES.md, Notifications).
   */
  notificationsDeferral?: { whileSyncing: number; maxDelayMs: number };
  /**
   * Image updates for Applications with Image Updater annotations or selected by an
   * ImageUpdater (interval SLUICE_IMAGE_CHECK_INTERVAL_SECONDS). On, as the annotations
   * are the opt-in; SLUICE_IMAGE_UPDATES=off turns them off, for a cluster where Argo's own
   * Image Updater still runs.
   */
  imageUpdates?: { intervalMs?: number };
  /** Where the API keeps accounts (sluice-cm), RBAC (sluice-rbac-cm) and tokens (sluice-tokens). */
  sluiceNamespace: string;
  /** Temporal UI's address (SLUICE_TEMPORAL_UI_URL), for the dashboard's links to workflows; none when unset. */
  temporalUiUrl?: string;
  /**
   * How long a stopping process drains (SLUICE_SHUTDOWN_GRACE_SECONDS; cmd/main.ts defaults
   * it to 45): in-flight activities and open API requests may finish this long; kept under
   * the Deployment's terminationGracePeriodSeconds (60), so the kubelet's SIGKILL never cuts
   * a drain short. Unset, a stop cancels in-flight activities at once (tests, `sluice up`).
   */
  shutdownGraceMs?: number;
  /** Replicas share out the watchers' signals (worker/replica-shards.ts); SLUICE_REPLICA_SHARDS=off makes each signal every change. */
  replicaShards?: boolean;
  /** This replica's name among the others (SLUICE_REPLICA_ID); the host name (a pod's name) when unset. */
  replicaId?: string;
}

export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 45;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  const temporal = temporalSettingsFromEnv(env);
  return {
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporalConnection: { options: temporal.options, describe: temporal.describe, addressConfigured: temporal.addressConfigured },
    taskQueue: env.SLUICE_TASK_QUEUE ?? 'sluice',
    watchNamespace: env.SLUICE_WATCH_NAMESPACE || undefined,
    apiHost: env.SLUICE_API_HOST ?? '127.0.0.1',
    apiPort: Number(env.SLUICE_API_PORT ?? 8080),
    maxCachedWorkflows: Number(env.SLUICE_MAX_CACHED_WORKFLOWS ?? 500),
    applicationTimings: applicationTimingsFromEnv(env),
    notifications: env.SLUICE_NOTIFICATIONS !== 'off',
    notificationsDeferral: {
      whileSyncing: Number(env.SLUICE_NOTIFICATIONS_DEFER_WHILE_SYNCING ?? 10),
      maxDelayMs: Number(env.SLUICE_NOTIFICATIONS_MAX_DELAY_SECONDS ?? 120) * 1000,
    },
    ...(env.SLUICE_IMAGE_UPDATES !== 'off'
      ? { imageUpdates: env.SLUICE_IMAGE_CHECK_INTERVAL_SECONDS ? { intervalMs: Number(env.SLUICE_IMAGE_CHECK_INTERVAL_SECONDS) * 1000 } : {} }
      : {}),
    sluiceNamespace: env.SLUICE_NAMESPACE || SLUICE_NAMESPACE,
    temporalUiUrl: env.SLUICE_TEMPORAL_UI_URL || undefined,
    replicaShards: env.SLUICE_REPLICA_SHARDS !== 'off',
    replicaId: env.SLUICE_REPLICA_ID || undefined,
    ...(env.SLUICE_SHUTDOWN_GRACE_SECONDS ? { shutdownGraceMs: positiveSeconds(env, 'SLUICE_SHUTDOWN_GRACE_SECONDS') * 1000 } : {}),
  };
}

function positiveSeconds(env: NodeJS.ProcessEnv, name: string): number {
  const raw = env[name];
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: expected a number of seconds above 0`);
  return n;
}

function applicationTimingsFromEnv(env: NodeJS.ProcessEnv): Partial<ApplicationTimings> {
  const timings: Partial<ApplicationTimings> = {};
  const seconds = (name: string) => (env[name] ? Number(env[name]) * 1000 : undefined);
  const set = (key: keyof ApplicationTimings, ms: number | undefined) => {
    if (ms !== undefined && Number.isFinite(ms)) timings[key] = ms;
  };
  set('reconcileMs', seconds('SLUICE_APP_RECONCILE_SECONDS'));
  set('jitterMs', seconds('SLUICE_APP_RECONCILE_JITTER_SECONDS'));
  set('hookTimeoutMs', seconds('SLUICE_APP_HOOK_TIMEOUT_SECONDS'));
  set('waveTimeoutMs', seconds('SLUICE_APP_WAVE_TIMEOUT_SECONDS'));
  return timings;
}
