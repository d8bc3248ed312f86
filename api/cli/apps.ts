// `sluice app ...`: Argo CD-style Application commands over the HTTP API.
import type { Command } from 'commander';
import { ApiClient, enc } from './client';
import { outputFormat, printStructured, printTable } from './output';

type Api = () => ApiClient;

export function registerAppCommands(program: Command, api: Api): void {
  const app = program.command('app').alias('apps').description('Argo CD-style Application commands');
  app
    .command('list')
    .alias('ls')
    .description('list applications you may read')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option('-p, --project <project>', 'only this project')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (opts: { namespace?: string; project?: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const q = new URLSearchParams({ ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.project ? { project: opts.project } : {}) }).toString();
      const data = await api().get<{ items: { namespace: string; name: string; project: string; sync?: string; health?: string; revision?: string; operation?: string }[] }>(
        `/api/v1/applications${q ? `?${q}` : ''}`,
      );
      if (printStructured(format, data)) return;
      printTable(
        ['NAMESPACE', 'NAME', 'PROJECT', 'SYNC', 'HEALTH', 'OPERATION', 'REVISION'],
        data.items.map((a) => [a.namespace, a.name, a.project, a.sync ?? 'Unknown', a.health ?? 'Unknown', a.operation ?? '-', (a.revision ?? '').slice(0, 10)]),
      );
    });
  app
    .command('get <name>')
    .description('show an application')
    .option('-n, --namespace <ns>', 'namespace of the Application object', 'argocd')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (name: string, opts: { namespace: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const { application: a } = await api().get<{ application: { metadata: { name: string; namespace: string }; spec: any; status?: any } }>(
        `/api/v1/namespaces/${enc(opts.namespace)}/applications/${enc(name)}`,
      );
      if (printStructured(format, { application: a })) return;
      const st = a.status ?? {};
      const src = a.spec?.source ?? a.spec?.sources?.[0] ?? {};
      const rows: [string, string][] = [
        ['Name', `${a.metadata.namespace}/${a.metadata.name}`],
        ['Project', a.spec?.project || 'default'],
        ['Server', a.spec?.destination?.server ?? a.spec?.destination?.name ?? '-'],
        ['Namespace', a.spec?.destination?.namespace ?? '-'],
        ['Repo', src.repoURL ?? '-'],
        ['Target', src.targetRevision ?? 'HEAD'],
        ['Path', src.path ?? src.chart ?? '-'],
        ['Sync Status', `${st.sync?.status ?? 'Unknown'}${st.sync?.revision ? ` (${String(st.sync.revision).slice(0, 7)})` : ''}`],
        ['Health', st.health?.status ?? 'Unknown'],
        ...(st.operationState ? ([['Operation', `${st.operationState.phase}${st.operationState.message ? `: ${st.operationState.message}` : ''}`]] as [string, string][]) : []),
      ];
      for (const [k, v] of rows) console.log(`${(k + ':').padEnd(14)}${v}`);
      const resources = (st.resources ?? []) as { group?: string; kind: string; namespace?: string; name: string; status?: string; health?: { status?: string } }[];
      if (resources.length) {
        console.log('');
        printTable(
          ['GROUP', 'KIND', 'NAMESPACE', 'NAME', 'STATUS', 'HEALTH'],
          resources.map((r) => [r.group ?? '', r.kind, r.namespace ?? '', r.name, r.status ?? '', r.health?.status ?? '']),
        );
      }
    });
}
