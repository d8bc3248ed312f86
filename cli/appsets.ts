// `sluice appset ...`: ApplicationSet commands over the HTTP API (Argo CD's `argocd appset`).
import * as fs from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiClient, CliError, EXIT, enc } from './client';
import { outputFormat, printStructured, printTable } from './output';

type Api = () => ApiClient;

function setPath(name: string, namespace: string): string {
  const slash = name.indexOf('/');
  const [ns, n] = slash > 0 ? [name.slice(0, slash), name.slice(slash + 1)] : [namespace, name];
  return `/api/v1/namespaces/${enc(ns)}/applicationsets/${enc(n)}`;
}

export function registerAppSetCommands(program: Command, api: Api): void {
  const appset = program.command('appset').alias('appsets').description('Argo CD-style ApplicationSet commands');
  appset
    .command('list')
    .alias('ls')
    .description('list ApplicationSets you may read')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (opts: { namespace?: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().request<{ items: { namespace: string; name: string; project: string; conditions: string[]; applications: number }[] }>(
        'get',
        `/api/v1/applicationsets${opts.namespace ? `?namespace=${enc(opts.namespace)}` : ''}`,
      );
      if (printStructured(format, data)) return;
      printTable(
        ['NAMESPACE', 'NAME', 'PROJECT', 'APPLICATIONS', 'CONDITIONS'],
        data.items.map((s) => [s.namespace, s.name, s.project, String(s.applications), s.conditions.join(',') || '-']),
      );
    });
  appset
    .command('get <name>')
    .description('show an ApplicationSet, its conditions and Applications')
    .option('-n, --namespace <ns>', 'namespace of the ApplicationSet (or write <namespace>/<name>)', 'argocd')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (name: string, opts: { namespace: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().request<{ applicationSet: any }>('get', setPath(name, opts.namespace));
      if (printStructured(format, data)) return;
      const s = data.applicationSet;
      console.log(`Name:      ${s.metadata.namespace}/${s.metadata.name}`);
      console.log(`Project:   ${s.spec?.template?.spec?.project || 'default'}`);
      console.log(
        `Generators: ${(s.spec?.generators ?? [])
          .map((g: object) =>
            Object.keys(g)
              .filter((k) => k !== 'selector')
              .join('+'),
          )
          .join(', ')}`,
      );
      printTable(
        ['CONDITION', 'STATUS', 'REASON', 'MESSAGE'],
        (s.status?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason ?? '', c.message ?? '']),
      );
      const progress = new Map<string, any>((s.status?.applicationStatus ?? []).map((a: any) => [a.application, a]));
      printTable(
        ['APPLICATION', 'SYNC', 'HEALTH', 'STEP', 'ROLLOUT'],
        (s.status?.resources ?? []).map((r: any) => [
          r.name,
          r.status ?? '-',
          r.health?.status ?? '-',
          progress.get(r.name)?.step ?? '-',
          progress.get(r.name)?.status ?? '-',
        ]),
      );
    });
  appset
    .command('generate <file>')
    .description('the Applications an ApplicationSet manifest would produce, nothing applied')
    .option('-o, --output <format>', 'json or yaml (default: yaml)')
    .action(async (file: string, opts: { output?: string }) => {
      const manifest = YAML.parse(fs.readFileSync(file, 'utf8'));
      if (manifest?.kind !== 'ApplicationSet') throw new CliError(`${file} is not an ApplicationSet`, EXIT.failed);
      const outcome = await api().request<{ applications?: unknown[]; error?: string; reason?: string; violations?: { message: string }[] }>(
        'post',
        '/api/v1/applicationsets/generate',
        { applicationSet: manifest },
      );
      if (outcome.error !== undefined) throw new CliError(`${outcome.reason}: ${outcome.error}`, EXIT.failed);
      // Listed, but a pass would neither create nor update them.
      for (const v of outcome.violations ?? []) console.error(`warning: ${v.message}`);
      const format = outputFormat(opts.output ?? 'yaml');
      printStructured(format, outcome.applications ?? []);
    });
  appset
    .command('delete <name>')
    .description('delete an ApplicationSet (its Applications too, unless its policy keeps them)')
    .option('-n, --namespace <ns>', 'namespace of the ApplicationSet (or write <namespace>/<name>)', 'argocd')
    .action(async (name: string, opts: { namespace: string }) => {
      const r = await api().request<{ deleted: string }>('delete', setPath(name, opts.namespace));
      console.log(`applicationset ${r.deleted} deleted`);
    });
}
