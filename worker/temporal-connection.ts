// How Sluice reaches Temporal, the Temporal way: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS_* and a TOML profile (TEMPORAL_CONFIG_FILE,
// TEMPORAL_PROFILE), read by the SDK's own envconfig package so Sluice, the `temporal`
// CLI and every other SDK client read one configuration the same way.
import { Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** TLS, API key and gRPC metadata as the SDK's envconfig resolved them (certificate data already read). */
  options: Omit<NativeConnectionOptions, 'address'>;
  /** Where the TLS material came from, for error messages: paths and variable names, never the data. */
  describe: string;
  /** TEMPORAL_ADDRESS or the profile named a server (`sluice up` then starts no dev server). */
  addressConfigured: boolean;
}

export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  const { address, ...options } = loaded.connectionOptions;
  return {
    address: address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: loaded.namespace ?? 'default',
    options,
    describe: describeSettings(vars, options),
    addressConfigured: address !== undefined,
  };
}

function describeSettings(env: Record<string, string>, options: Omit<NativeConnectionOptions, 'address'>): string {
  const parts: string[] = [];
  if (env.TEMPORAL_CONFIG_FILE || env.TEMPORAL_PROFILE)
    parts.push(`profile ${env.TEMPORAL_PROFILE ?? 'default'} of ${env.TEMPORAL_CONFIG_FILE ?? 'the default config file'}`);
  const tls = options.tls;
  if (!tls) parts.push('no TLS');
  else {
    const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH ?? (env.TEMPORAL_TLS_CLIENT_CERT_DATA ? 'TEMPORAL_TLS_CLIENT_CERT_DATA' : undefined);
    const ca = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH ?? (env.TEMPORAL_TLS_SERVER_CA_CERT_DATA ? 'TEMPORAL_TLS_SERVER_CA_CERT_DATA' : undefined);
    const t = typeof tls === 'object' ? tls : {};
    parts.push(
      [
        'TLS',
        t.clientCertPair ? `client certificate ${cert ?? '(from the profile)'}` : 'no client certificate',
        t.serverRootCACertificate ? `server CA ${ca ?? '(from the profile)'}` : 'system CAs',
        t.serverNameOverride ? `server name ${t.serverNameOverride}` : undefined,
      ]
        .filter(Boolean)
        .join(', '),
    );
  }
  if (options.apiKey) parts.push('API key set');
  return parts.join('; ');
}

export class TemporalConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalConnectError';
  }
}

/** Says which server and which credentials were refused, and how to change them. */
function refused(settings: TemporalSettings, err: unknown): TemporalConnectError {
  const cause = err instanceof Error ? err.message : String(err);
  return new TemporalConnectError(
    `cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}; ${settings.describe}): ${cause}. ` +
      'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH / TEMPORAL_TLS_SERVER_CA_CERT_PATH / TEMPORAL_TLS_SERVER_NAME (or the TEMPORAL_CONFIG_FILE profile).',
  );
}

/** A client connection that has answered one call in the namespace, so a bad certificate or key fails here, by name. */
export async function connectClient(settings: TemporalSettings, connectTimeout = 10_000): Promise<Connection> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...settings.options, address: settings.address, connectTimeout });
    await connection.workflowService.describeNamespace({ namespace: settings.namespace });
    return connection;
  } catch (err) {
    await connection?.close().catch(() => undefined);
    throw refused(settings, err);
  }
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ ...settings.options, address: settings.address });
  } catch (err) {
    throw refused(settings, err);
  }
}
