// How the CLI reaches the API: server and token from flags, the environment
// (SLUICE_SERVER, SLUICE_TOKEN) or ~/.sluice/cli.json (written by `sluice login` and
// `sluice up`, mode 0600), and exit codes scripts can rely on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import axios, { AxiosError } from 'axios';

export const EXIT = { ok: 0, failed: 1, notFound: 2, unreachable: 3, unauthorised: 4 } as const;

export const home = () => process.env.SLUICE_HOME ?? path.join(os.homedir(), '.sluice');
export const cliConfigFile = () => path.join(home(), 'cli.json');

export interface CliConfig {
  server?: string;
  token?: string;
}

export function readCliConfig(): CliConfig {
  try {
    return JSON.parse(fs.readFileSync(cliConfigFile(), 'utf8')) as CliConfig;
  } catch {
    return {};
  }
}

export function writeCliConfig(config: CliConfig): void {
  const file = cliConfigFile();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600); // also when the file existed with wider permissions
}

export interface GlobalOptions {
  server?: string;
  token?: string;
}

export function serverUrl(opts: GlobalOptions): string {
  return (opts.server || process.env.SLUICE_SERVER || readCliConfig().server || 'http://127.0.0.1:8080').replace(/\/$/, '');
}

export function token(opts: GlobalOptions): string | undefined {
  return opts.token || process.env.SLUICE_TOKEN || readCliConfig().token;
}

/** An error the CLI reports and exits with; `code` is one of EXIT. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.unauthorised;
  if (status === 404) return EXIT.notFound;
  return EXIT.failed;
}

export class ApiClient {
  constructor(
    readonly server: string,
    private readonly bearer: string | undefined,
  ) {}

  static from(opts: GlobalOptions): ApiClient {
    return new ApiClient(serverUrl(opts), token(opts));
  }

  async request<T>(method: 'get' | 'post' | 'delete', urlPath: string, body?: unknown): Promise<T> {
    try {
      const res = await axios.request<T>({
        method,
        url: this.server + urlPath,
        data: method === 'post' ? (body ?? {}) : undefined,
        timeout: 30_000,
        headers: this.bearer ? { authorization: `Bearer ${this.bearer}` } : {},
      });
      return res.data;
    } catch (err) {
      const e = err as AxiosError<{ code?: string; message?: string }>;
      if (e.response) {
        const hint = e.response.status === 401 ? ' (sluice login --server URL --token TOKEN)' : '';
        throw new CliError(`${e.response.data?.message ?? e.message}${hint}`, exitCodeForStatus(e.response.status));
      }
      throw new CliError(
        `cannot reach the Sluice API at ${this.server} (${e.code ?? e.message}); is \`npm start\` running, or is --server right?`,
        EXIT.unreachable,
      );
    }
  }

  get<T>(urlPath: string): Promise<T> {
    return this.request<T>('get', urlPath);
  }
  post<T>(urlPath: string, body?: unknown): Promise<T> {
    return this.request<T>('post', urlPath, body);
  }
  delete<T>(urlPath: string): Promise<T> {
    return this.request<T>('delete', urlPath);
  }
}

export const enc = encodeURIComponent;
