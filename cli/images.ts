// `sluice image list | check <app>`: which Applications follow which images, and what the
// image workflow picks and why (check asks it to look now, as a registry webhook would).
import type { Command } from 'commander';
import { ApiClient, enc } from './client';
import { outputFormat, printStructured, printTable } from './output';

type Api = () => ApiClient;

interface ImageStatus {
  alias: string;
  image: string;
  strategy: string;
  current?: string;
  chosen?: string;
  reason: string;
  error?: string;
}
interface AppImages {
  namespace: string;
  name: string;
  writeBack: string;
  images: { alias: string; image: string; strategy: string; constraint?: string }[];
  problems: string[];
  status: { lastCheckedAt?: string; images: ImageStatus[]; problems: string[]; lastWrite?: { at: string; message: string } } | null;
  pending?: boolean;
}

function appPath(name: string, namespace: string): string {
  const slash = name.indexOf('/');
  const [ns, n] = slash > 0 ? [name.slice(0, slash), name.slice(slash + 1)] : [namespace, name];
  return `/api/v1/namespaces/${enc(ns)}/applications/${enc(n)}/images`;
}

function printApp(a: AppImages): void {
  console.log(`Application:  ${a.namespace}/${a.name}`);
  console.log(`Write-back:   ${a.writeBack}`);
  console.log(`Last checked: ${a.status?.lastCheckedAt ?? (a.status ? 'not yet' : 'no image workflow running')}${a.pending ? ' (check still running)' : ''}`);
  if (a.status?.lastWrite) console.log(`Last write:   ${a.status.lastWrite.at} ${a.status.lastWrite.message}`);
  const byAlias = new Map((a.status?.images ?? []).map((i) => [i.alias, i]));
  printTable(
    ['ALIAS', 'IMAGE', 'STRATEGY', 'CURRENT', 'PICKED', 'WHY'],
    a.images.map((i) => {
      const s = byAlias.get(i.alias);
      return [
        i.alias || '-',
        i.image,
        `${i.strategy}${i.constraint ? ` ${i.constraint}` : ''}`,
        s?.current ?? '-',
        s?.chosen ?? '-',
        s?.error ?? s?.reason ?? '-',
      ];
    }),
  );
  for (const p of [...a.problems, ...(a.status?.problems ?? [])].filter((p, i, all) => all.indexOf(p) === i)) console.log(`Problem: ${p}`);
}

export function registerImageCommands(program: Command, api: Api): void {
  const image = program.command('image').alias('images').description('Argo CD Image Updater-style image updates');
  image
    .command('list')
    .alias('ls')
    .description('Applications with image updates and what their last check found')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (opts: { output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().request<{ items: AppImages[] }>('get', '/api/v1/images');
      if (printStructured(format, data)) return;
      printTable(
        ['APPLICATION', 'IMAGE', 'STRATEGY', 'CURRENT', 'PICKED', 'WRITE-BACK'],
        data.items.flatMap((a) =>
          a.images.map((i) => {
            const s = a.status?.images.find((x) => x.alias === i.alias);
            return [`${a.namespace}/${a.name}`, i.image, i.strategy, s?.current ?? '-', s?.chosen ?? '-', a.writeBack];
          }),
        ),
      );
    });
  image
    .command('check <app>')
    .description('check the images of an Application now: what would be picked and why')
    .option('-n, --namespace <ns>', 'namespace of the Application (or write <namespace>/<name>)', 'argocd')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (name: string, opts: { namespace: string; output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().request<AppImages>('post', `${appPath(name, opts.namespace)}/check`);
      if (printStructured(format, data)) return;
      printApp(data);
    });
}
