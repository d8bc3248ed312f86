// The `sluice` client: commands that talk to the HTTP API, so it works from any machine
// with the API's URL and a token. The `sluice` binary (cmd/sluice.ts) adds `up`.
// Exit codes: 0 ok, 1 refused or failed, 2 not found, 3 unreachable, 4 unauthorised.
import { Command } from 'commander';
import { registerAccountCommands } from './account';
import { registerAppCommands } from './apps';
import { registerAppSetCommands } from './appsets';
import { registerImageCommands } from './images';
import { ApiClient, CliError, EXIT, type GlobalOptions } from './client';
import { bashCompletion } from './completion';
import { SLUICE_VERSION } from '../domain/version';
import { registerRolloutCommands } from './rollouts';

export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('GitOps sync and progressive delivery on Temporal, for Argo CD and Argo Rollouts manifests')
    .option('--server <url>', 'Sluice API URL (env SLUICE_SERVER; default from `sluice login`/`sluice up`, else http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (env SLUICE_TOKEN; default from `sluice login`/`sluice up`)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 refused or failed, 2 not found, 3 API unreachable, 4 unauthorised (401/403).');
  const api = () => ApiClient.from(program.opts<GlobalOptions>());

  registerAccountCommands(program, api);
  registerRolloutCommands(program, api);
  registerAppCommands(program, api);
  registerAppSetCommands(program, api);
  registerImageCommands(program, api);

  program
    .command('version')
    .description("print this client's version and, unless --client, the server's (/api/version)")
    .option('--client', 'the client only; no call to the server')
    .action(async (opts: { client?: boolean }) => {
      process.stdout.write(`client: sluice ${SLUICE_VERSION}\n`);
      if (opts.client) return;
      const server = await api().get<{ version: string }>('/api/version');
      process.stdout.write(`server: sluice ${server.version}\n`);
    });

  program
    .command('completion <shell>')
    .description('print a shell completion script (bash); load it with: source <(sluice completion bash)')
    .action((shell: string) => {
      if (shell !== 'bash') throw new CliError(`completion for ${shell} is not available; use bash`, EXIT.failed);
      process.stdout.write(bashCompletion(program));
    });

  return program;
}
