#!/usr/bin/env node
// `sluice` (also `kubectl sluice`): the local stack (`up`) and commands that talk to
// the HTTP API, so it works from any machine with the API's URL and a token.
// Exit codes: 0 ok, 1 refused or failed, 2 not found, 3 unreachable, 4 unauthorised.
import * as path from 'node:path';
import { Command } from 'commander';
import { registerAccountCommands } from './account';
import { registerAppCommands } from './apps';
import { ApiClient, CliError, EXIT, cliConfigFile, home, type GlobalOptions } from './client';
import { bashCompletion } from './completion';
import { registerRolloutCommands } from './rollouts';

export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('GitOps sync and progressive delivery on Temporal, for Argo CD and Argo Rollouts manifests')
    .option('--server <url>', 'Sluice API URL (env SLUICE_SERVER; default from `sluice login`/`sluice up`, else http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (env SLUICE_TOKEN; default from `sluice login`/`sluice up`)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 refused or failed, 2 not found, 3 API unreachable, 4 unauthorised (401/403).');
  const api = () => ApiClient.from(program.opts<GlobalOptions>());

  program
    .command('up')
    .description('start the local stack (Temporal, Kubernetes, Prometheus) and Sluice; what `npm start` runs')
    .option('--state-dir <dir>', 'where the stack keeps its state', path.join(home(), 'stack'))
    .action(async (opts: { stateDir: string }) => {
      const { up } = await import('./up');
      await up(opts.stateDir, cliConfigFile());
    });

  registerAccountCommands(program, api);
  registerRolloutCommands(program, api);
  registerAppCommands(program, api);

  program
    .command('completion <shell>')
    .description('print a shell completion script (bash); load it with: source <(sluice completion bash)')
    .action((shell: string) => {
      if (shell !== 'bash') throw new CliError(`completion for ${shell} is not available; use bash`, EXIT.failed);
      process.stdout.write(bashCompletion(program));
    });

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(err instanceof CliError ? err.exitCode : EXIT.failed);
    });
}
