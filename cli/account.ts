// `sluice login` and `sluice account ...`: tokens for local accounts, as
// `argocd login` / `argocd account generate-token` / `delete-token` have them.
import type { Command } from 'commander';
import { parseExpiresIn, type TokenInfo } from '../domain/rbac/tokens';
import { ApiClient, CliError, EXIT, cliConfigFile, enc, readCliConfig, serverUrl, writeCliConfig, type GlobalOptions } from './client';
import { outputFormat, printStructured, printTable } from './output';

type Api = () => ApiClient;
interface AccountView {
  name: string;
  enabled: boolean;
  capabilities: string[];
  tokens: TokenInfo[];
}

export function registerAccountCommands(program: Command, api: Api): void {
  // --server and --token are the program's global options, given here after `login`.
  program
    .command('login')
    .description('check --token against --server and save both to ~/.sluice/cli.json (mode 0600): sluice login --server URL --token TOKEN')
    .action(async () => {
      const opts = program.opts<GlobalOptions>();
      if (!opts.server || !opts.token) throw new CliError('usage: sluice login --server URL --token TOKEN', EXIT.failed);
      const client = new ApiClient(serverUrl({ server: opts.server }), opts.token);
      const session = await client.get<{ account: string }>('/api/v1/session');
      writeCliConfig({ ...readCliConfig(), server: client.server, token: opts.token });
      console.log(`logged in to ${client.server} as ${session.account}`);
    });

  program
    .command('logout')
    .description('forget the saved token (the server URL stays)')
    .action(() => {
      const { token: _forgotten, ...rest } = readCliConfig();
      writeCliConfig(rest);
      console.log(`logged out; the token is no longer in ${cliConfigFile()} (revoke it with sluice account revoke-token if it may have leaked)`);
    });

  const account = program.command('account').description('local accounts and their API tokens');

  account
    .command('can-i <action> <resource> <object>')
    .description('whether you may: prints yes or no, exit 0 or 1 (e.g. can-i sync applications team-frontend/frontend-app)')
    .action(async (action: string, resource: string, object: string) => {
      const q = new URLSearchParams({ resource, action, object }).toString();
      const { value } = await api().get<{ value: string }>(`/api/v1/session/can-i?${q}`);
      console.log(value);
      if (value !== 'yes') process.exitCode = EXIT.failed;
    });

  account
    .command('list')
    .description('accounts you may see')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (opts: { output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().get<{ items: AccountView[] }>('/api/v1/accounts');
      if (printStructured(format, data)) return;
      printTable(
        ['NAME', 'ENABLED', 'CAPABILITIES', 'TOKENS'],
        data.items.map((a) => [a.name, String(a.enabled), a.capabilities.join(', '), String(a.tokens.length)]),
      );
    });

  account
    .command('get [name]')
    .description('an account and its tokens (default: your own)')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (name: string | undefined, opts: { output?: string }) => {
      const format = outputFormat(opts.output);
      const who = name ?? (await api().get<{ account: string }>('/api/v1/session')).account;
      const a = await api().get<AccountView>(`/api/v1/accounts/${enc(who)}`);
      if (printStructured(format, a)) return;
      console.log(`Name:          ${a.name}\nEnabled:       ${a.enabled}\nCapabilities:  ${a.capabilities.join(', ')}\n`);
      printTable(
        ['ID', 'ISSUED AT', 'EXPIRES AT', 'DESCRIPTION'],
        a.tokens.map((t) => [t.id, t.issuedAt, t.expiresAt ?? 'never', t.description ?? '']),
      );
    });

  account
    .command('generate-token')
    .description('issue an API token and print it (it is shown only this once)')
    .option('-a, --account <name>', 'the account (default: your own)')
    .option('-e, --expires-in <duration>', 'e.g. 30m, 1h, 7d; 0 for never', '0')
    .option('--description <text>', 'a note stored with the token')
    .action(async (opts: { account?: string; expiresIn: string; description?: string }) => {
      let expiresIn: number | undefined;
      try {
        expiresIn = parseExpiresIn(opts.expiresIn);
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.failed);
      }
      const who = opts.account ?? (await api().get<{ account: string }>('/api/v1/session')).account;
      const res = await api().post<{ token: string }>(`/api/v1/accounts/${enc(who)}/tokens`, {
        ...(expiresIn ? { expiresIn } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      });
      console.log(res.token);
    });

  account
    .command('revoke-token <id>')
    .alias('delete-token')
    .description('revoke a token by its ID (see `sluice account get`)')
    .action(async (id: string) => {
      const res = await api().delete<{ message: string }>(`/api/v1/tokens/${enc(id)}`);
      console.log(res.message);
    });
}
