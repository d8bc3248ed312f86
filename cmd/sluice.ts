#!/usr/bin/env node
// The `sluice` binary (also `kubectl sluice`): the API client from cli/, plus `up`, which
// runs the local stack and a whole Sluice process (what `npm start` runs).
import * as path from 'node:path';
import { buildProgram } from '../cli/main';
import { CliError, EXIT, cliConfigFile, home } from '../cli/client';

const program = buildProgram();
program
  .command('up')
  .description('start the local stack (Temporal, Kubernetes, Prometheus) and Sluice; what `npm start` runs')
  .option('--state-dir <dir>', 'where the stack keeps its state', path.join(home(), 'stack'))
  .action(async (opts: { stateDir: string }) => {
    const { up } = await import('./up');
    await up(opts.stateDir, cliConfigFile());
  });

program.parseAsync(process.argv).catch((err) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof CliError ? err.exitCode : EXIT.failed);
});
