// `sluice app ...`: Argo CD-style Application commands over the HTTP API.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiClient, CliError, EXIT, enc } from './client';
import { outputFormat, printStructured, printTable } from './output';
import { ARGOCD_NAMESPACE, DEFAULT_PROJECT } from '../domain/argo/names';

type Api = () => ApiClient;

// Argo CD's `<namespace>/<name>` form names an Application outside the default namespace.
function appPath(name: string, namespace: string): string {
  const slash = name.indexOf('/');
  const [ns, n] = slash > 0 ? [name.slice(0, slash), name.slice(slash + 1)] : [namespace, name];
  return `/api/v1/namespaces/${enc(ns)}/applications/${enc(n)}`;
}
const appNs = (c: Command) => c.option('-n, --namespace <ns>', 'namespace of the Application object (or write <namespace>/<name>)', ARGOCD_NAMESPACE);

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
      const q = new URLSearchParams({
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        ...(opts.project ? { project: opts.project } : {}),
      }).toString();
      const data = await api().get<{
        items: { namespace: string; name: string; project: string; sync?: string; health?: string; revision?: string; operation?: string }[];
      }>(`/api/v1/applications${q ? `?${q}` : ''}`);
      if (printStructured(format, data)) return;
      printTable(
        ['NAMESPACE', 'NAME', 'PROJECT', 'SYNC', 'HEALTH', 'OPERATION', 'REVISION'],
        data.items.map((a) => [
          a.namespace,
          a.name,
          a.project,
          a.sync ?? 'Unknown',
          a.health ?? 'Unknown',
          a.operation ?? '-',
          (a.revision ?? '').slice(0, 10),
        ]),
      );
    });
  appNs(app.command('get <name>').description('show an application'))
    .option('-o, --output <format>', 'json or yaml')
    .action(async (name: string, opts: { namespace: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const { application: a } = await api().get<{ application: { metadata: { name: string; namespace: string }; spec: any; status?: any } }>(
        appPath(name, opts.namespace),
      );
      if (printStructured(format, { application: a })) return;
      const st = a.status ?? {};
      const src = a.spec?.source ?? a.spec?.sources?.[0] ?? {};
      const rows: [string, string][] = [
        ['Name', `${a.metadata.namespace}/${a.metadata.name}`],
        ['Project', a.spec?.project || DEFAULT_PROJECT],
        ['Server', a.spec?.destination?.server ?? a.spec?.destination?.name ?? '-'],
        ['Namespace', a.spec?.destination?.namespace ?? '-'],
        ['Repo', src.repoURL ?? '-'],
        ['Target', src.targetRevision ?? 'HEAD'],
        ['Path', src.path ?? src.chart ?? '-'],
        ['Sync Status', `${st.sync?.status ?? 'Unknown'}${st.sync?.revision ? ` (${String(st.sync.revision).slice(0, 7)})` : ''}`],
        ['Health', st.health?.status ?? 'Unknown'],
        ...(st.operationState
          ? ([['Operation', `${st.operationState.phase}${st.operationState.message ? `: ${st.operationState.message}` : ''}`]] as [string, string][])
          : []),
      ];
      for (const [k, v] of rows) console.log(`${(k + ':').padEnd(14)}${v}`);
      const resources = (st.resources ?? []) as {
        group?: string;
        kind: string;
        namespace?: string;
        name: string;
        status?: string;
        health?: { status?: string };
      }[];
      if (resources.length) {
        console.log('');
        printTable(
          ['GROUP', 'KIND', 'NAMESPACE', 'NAME', 'STATUS', 'HEALTH'],
          resources.map((r) => [r.group ?? '', r.kind, r.namespace ?? '', r.name, r.status ?? '', r.health?.status ?? '']),
        );
      }
    });

  app
    .command('create')
    .description('create the Applications in a YAML file; each is checked against RBAC (create) and its AppProject first')
    .requiredOption('-f, --file <file>', 'YAML with one or more Application documents')
    .option('-n, --namespace <ns>', 'namespace for documents that name none', ARGOCD_NAMESPACE)
    .action(async (opts: { file: string; namespace: string }) => {
      let docs: any[];
      try {
        docs = YAML.parseAllDocuments(fs.readFileSync(opts.file, 'utf8')).map((d) => d.toJS());
      } catch (err) {
        throw new CliError(`${opts.file}: ${(err as Error).message}`, EXIT.failed);
      }
      const apps = docs.filter((d) => d?.kind === 'Application');
      if (apps.length === 0) throw new CliError(`${opts.file} holds no Application`, EXIT.failed);
      for (const a of apps) {
        const ns = a.metadata?.namespace ?? opts.namespace;
        await api().post(`/api/v1/namespaces/${enc(ns)}/applications`, {
          metadata: { name: a.metadata?.name, labels: a.metadata?.labels, annotations: a.metadata?.annotations },
          spec: a.spec,
        });
        console.log(`application ${ns}/${a.metadata?.name} created`);
      }
    });
  appNs(app.command('sync <name>').description('sync now'))
    .option('--prune', 'delete resources no longer in Git')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--revision <rev>', 'sync to this revision instead of the target')
    .option('--resource <group:kind:name>', 'only this resource (repeatable; group may be empty)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (name: string, opts: { namespace: string; prune?: boolean; dryRun?: boolean; revision?: string; resource: string[] }) => {
      // Argo's --resource GROUP:KIND:NAME, with an optional namespace as GROUP:KIND:NAMESPACE/NAME.
      const resources = opts.resource.map((r) => {
        const parts = r.split(':');
        if (parts.length !== 3) throw new CliError(`--resource ${r}: expected GROUP:KIND:NAME (e.g. apps:Deployment:frontend)`, EXIT.failed);
        const [group, kind, rest] = parts as [string, string, string];
        const [ns, n] = rest.includes('/') ? rest.split('/', 2) : ['', rest];
        return `${group}/${kind}/${ns}/${n}`;
      });
      const body = {
        ...(opts.prune ? { prune: true } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.revision ? { revision: opts.revision } : {}),
        ...(resources.length ? { resources } : {}),
      };
      console.log((await api().post<{ message: string }>(`${appPath(name, opts.namespace)}/sync`, body)).message);
    });
  appNs(app.command('refresh <name>').description('compare with Git again now').option('--hard', 'also re-render the manifests')).action(
    async (name: string, opts: { namespace: string; hard?: boolean }) => {
      console.log((await api().post<{ message: string }>(`${appPath(name, opts.namespace)}/refresh`, { hard: !!opts.hard })).message);
    },
  );
  appNs(app.command('terminate-op <name>').description('stop the running sync operation')).action(async (name: string, opts: { namespace: string }) => {
    console.log((await api().post<{ message: string }>(`${appPath(name, opts.namespace)}/terminate-operation`, {})).message);
  });
  appNs(
    app
      .command('confirm-deletion <name>')
      .description('approve the pruning a sync waits for (resources marked Prune=confirm), as `argocd app confirm-deletion`'),
  ).action(async (name: string, opts: { namespace: string }) => {
    console.log((await api().post<{ message: string }>(`${appPath(name, opts.namespace)}/confirm-deletion`, {})).message);
  });
  appNs(app.command('rollback <name> <id>').description('sync to the revision of history entry <id> (see `sluice app history`)')).action(
    async (name: string, id: string, opts: { namespace: string }) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 0) throw new CliError(`history id ${id} is not a number`, EXIT.failed);
      console.log((await api().post<{ message: string }>(`${appPath(name, opts.namespace)}/rollback`, { id: n })).message);
    },
  );
  appNs(app.command('diff <name>').description('a unified diff, live to Git; exit 1 when there are differences, as `argocd app diff`')).action(
    async (name: string, opts: { namespace: string }) => {
      const { diff } = await api().get<{ diff: string }>(`${appPath(name, opts.namespace)}/diff`);
      if (diff) {
        process.stdout.write(diff.endsWith('\n') ? diff : `${diff}\n`);
        process.exitCode = EXIT.failed;
      }
    },
  );
  appNs(app.command('history <name>').description('the sync history'))
    .option('-o, --output <format>', 'json or yaml')
    .action(async (name: string, opts: { namespace: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().get<{ items: { id: number; revision: string; deployedAt: string; source?: { repoURL?: string; path?: string } }[] }>(
        `${appPath(name, opts.namespace)}/history`,
      );
      if (printStructured(format, data)) return;
      printTable(
        ['ID', 'DATE', 'REVISION', 'SOURCE'],
        data.items.map((h) => [String(h.id), h.deployedAt, h.revision, `${h.source?.repoURL ?? ''}${h.source?.path ? ` ${h.source.path}` : ''}`]),
      );
    });
}
