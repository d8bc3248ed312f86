// `sluice rollouts ...` and `sluice analysisrun ...`: the kubectl-argo-rollouts
// command set over the HTTP API.
import type { Command } from 'commander';
import type { RolloutTree } from '../domain/rollouts/tree';
import type { RevisionRecord } from '../domain/rollouts/revision-history';
import { parseExpiresIn } from '../domain/rbac/tokens';
import { ApiClient, CliError, EXIT, enc } from './client';
import { outputFormat, printStructured, printTable } from './output';
import { age, renderRolloutTree, withIcon } from './tree';
import { watchLines } from './watch';

type Api = () => ApiClient;
interface NsOpts {
  namespace: string;
}
interface ListItem {
  namespace: string;
  name: string;
  strategy: string;
  desired: number;
  status: Record<string, any>;
}
interface TreeResponse {
  tree: RolloutTree;
  workflow?: { summary?: string };
}

const ns = (c: Command) => c.option('-n, --namespace <ns>', 'namespace', 'default');
const out = (c: Command) => c.option('-o, --output <format>', 'json or yaml');
const rolloutPath = (namespace: string, name: string) => `/api/v1/namespaces/${enc(namespace)}/rollouts/${enc(name)}`;

function durationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const s = parseExpiresIn(text);
  return s === undefined ? undefined : s * 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function simple(rollouts: Command, api: Api, name: string, description: string, body: () => object = () => ({})) {
  ns(rollouts.command(`${name} <rollout>`).description(description)).action(async (rollout: string, opts: NsOpts) => {
    const res = await api().post<{ message: string }>(`${rolloutPath(opts.namespace, rollout)}/${name}`, body());
    console.log(res.message);
  });
}

export function registerRolloutCommands(program: Command, api: Api): void {
  const rollouts = program.command('rollouts').alias('rollout').alias('ro').description('Argo Rollouts-style commands');

  out(
    ns(
      rollouts
        .command('list')
        .alias('ls')
        .description('list rollouts')
        .option('-A, --all-namespaces', 'all namespaces')
        .option('--phase <phase>', 'only rollouts in this phase'),
    ),
  ).action(async (opts: NsOpts & { allNamespaces?: boolean; phase?: string; output?: string }) => {
    const format = outputFormat(opts.output);
    const q = new URLSearchParams({ ...(opts.allNamespaces ? {} : { namespace: opts.namespace }), ...(opts.phase ? { phase: opts.phase } : {}) }).toString();
    const data = await api().get<{ items: ListItem[] }>(`/api/v1/rollouts${q ? `?${q}` : ''}`);
    if (printStructured(format, data)) return;
    printTable(
      ['NAMESPACE', 'NAME', 'STRATEGY', 'STATUS', 'STEP', 'SET-WEIGHT', 'READY', 'DESIRED', 'UP-TO-DATE', 'AVAILABLE'],
      data.items.map((r) => [
        r.namespace,
        r.name,
        r.strategy,
        r.status.phase ?? '',
        r.status.currentStepIndex === undefined ? '-' : String(r.status.currentStepIndex),
        r.status.canary?.weights ? String(r.status.canary.weights.canary.weight) : '-',
        String(r.status.readyReplicas ?? 0),
        String(r.desired),
        String(r.status.updatedReplicas ?? 0),
        String(r.status.availableReplicas ?? 0),
      ]),
    );
  });

  out(
    ns(rollouts.command('get <rollout>').description('show a rollout as a tree of revisions, ReplicaSets, pods and analysis runs'))
      .option('-w, --watch', 'keep redrawing as the rollout changes')
      .option('--timeout <duration>', 'with --watch: stop after this long (e.g. 5m)'),
  ).action(async (rollout: string, opts: NsOpts & { watch?: boolean; timeout?: string; output?: string }) => {
    const format = outputFormat(opts.output);
    const fetchTree = () => api().get<TreeResponse>(`${rolloutPath(opts.namespace, rollout)}/tree`);
    if (format) {
      printStructured(format, await fetchTree());
      return;
    }
    const draw = async () => {
      const data = await fetchTree();
      return renderRolloutTree(data.tree, new Date(), data.workflow?.summary);
    };
    if (!opts.watch) {
      console.log((await draw()).join('\n'));
      return;
    }
    await watchLines(draw, { intervalMs: 1000, timeoutMs: durationMs(opts.timeout) });
  });

  out(
    ns(rollouts.command('history <rollout>').description('every revision the rollout went through, oldest first, kept in Temporal past its ReplicaSets')),
  ).action(async (rollout: string, opts: NsOpts & { output?: string }) => {
    const format = outputFormat(opts.output);
    const data = await api().get<{ items: RevisionRecord[] }>(`${rolloutPath(opts.namespace, rollout)}/history`);
    if (printStructured(format, data)) return;
    printTable(
      ['REVISION', 'STARTED', 'ENDED', 'OUTCOME', 'POD-TEMPLATE-HASH', 'IMAGES'],
      data.items.map((r) => [r.revision ? String(r.revision) : '-', r.startedAt, r.endedAt ?? '-', r.outcome, r.podTemplateHash, r.images.join(',')]),
    );
  });

  ns(rollouts.command('status <rollout>').description('wait until the rollout is Healthy (exit 0), Paused (0) or Degraded/Aborted (1)'))
    .option('--no-watch', 'print the status once and exit')
    .option('--timeout <duration>', 'give up after this long (exit 1)', '')
    .action(async (rollout: string, opts: NsOpts & { watch: boolean; timeout: string }) => {
      const deadline = Date.now() + (durationMs(opts.timeout) ?? Infinity);
      let last = '';
      for (;;) {
        const { rollout: ro } = await api().get<{ rollout: { status?: { phase?: string; message?: string } } }>(rolloutPath(opts.namespace, rollout));
        const phase = ro.status?.phase ?? 'Progressing';
        const line = `${phase}${ro.status?.message ? ` - ${ro.status.message}` : ''}`;
        if (line !== last) console.log(line);
        last = line;
        if (phase === 'Degraded' || phase === 'Aborted') throw new CliError(`rollout ${opts.namespace}/${rollout} is ${phase}`, EXIT.failed);
        if (phase === 'Healthy' || phase === 'Paused' || !opts.watch) return;
        if (Date.now() > deadline) throw new CliError(`timed out waiting for rollout ${opts.namespace}/${rollout} (last: ${line})`, EXIT.failed);
        await sleep(1000);
      }
    });

  ns(
    rollouts
      .command('promote <rollout>')
      .description('continue a paused rollout; --full skips the remaining steps')
      .option('--full', 'skip all remaining steps and analyses'),
  ).action(async (rollout: string, opts: NsOpts & { full?: boolean }) => {
    const res = await api().post<{ message: string }>(`${rolloutPath(opts.namespace, rollout)}/promote`, { full: !!opts.full });
    console.log(res.message);
  });
  simple(rollouts, api, 'abort', 'abort the update and go back to the stable ReplicaSet');
  simple(rollouts, api, 'retry', 'retry an aborted update');
  simple(rollouts, api, 'restart', 'restart the pods of the rollout');
  simple(rollouts, api, 'pause', 'pause the rollout');
  simple(rollouts, api, 'resume', 'resume a paused rollout');
  ns(rollouts.command('undo <rollout>').description('roll back to the previous revision').option('--to-revision <n>', 'roll back to this revision')).action(
    async (rollout: string, opts: NsOpts & { toRevision?: string }) => {
      const toRevision = opts.toRevision === undefined ? undefined : Number(opts.toRevision);
      if (toRevision !== undefined && !(Number.isInteger(toRevision) && toRevision > 0))
        throw new CliError(`--to-revision ${opts.toRevision} is not a revision number`, EXIT.failed);
      const res = await api().post<{ message: string }>(`${rolloutPath(opts.namespace, rollout)}/undo`, toRevision ? { toRevision } : {});
      console.log(res.message);
    },
  );
  const set = rollouts.command('set').description('change a rollout');
  ns(set.command('image <rollout> <container=image>').description('set the image of one container')).action(
    async (rollout: string, assignment: string, opts: NsOpts) => {
      const eq = assignment.indexOf('=');
      if (eq <= 0 || eq === assignment.length - 1) throw new CliError(`expected <container>=<image>, got ${JSON.stringify(assignment)}`, EXIT.failed);
      const res = await api().post<{ message: string }>(`${rolloutPath(opts.namespace, rollout)}/set-image`, {
        container: assignment.slice(0, eq),
        image: assignment.slice(eq + 1),
      });
      console.log(res.message);
    },
  );

  const ar = program.command('analysisrun').alias('ar').description('AnalysisRuns');
  out(ns(ar.command('list').alias('ls').description('list analysis runs').option('-A, --all-namespaces', 'all namespaces'))).action(
    async (opts: NsOpts & { allNamespaces?: boolean; output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().get<{ items: { namespace: string; name: string; owner?: string; status: Record<string, any> }[] }>(
        `/api/v1/analysisruns${opts.allNamespaces ? '' : `?namespace=${enc(opts.namespace)}`}`,
      );
      if (printStructured(format, data)) return;
      printTable(
        ['NAMESPACE', 'NAME', 'ROLLOUT', 'STATUS'],
        data.items.map((r) => [r.namespace, r.name, r.owner ?? '-', r.status.phase ?? 'Pending']),
      );
    },
  );
  out(ns(ar.command('get <analysisrun>').description('show an analysis run with its measurements'))).action(
    async (name: string, opts: NsOpts & { output?: string }) => {
      const format = outputFormat(opts.output);
      const data = await api().get<{
        analysisRun: { metadata: { name: string; namespace: string; creationTimestamp?: string }; status?: Record<string, any> };
      }>(`/api/v1/namespaces/${enc(opts.namespace)}/analysisruns/${enc(name)}`);
      if (printStructured(format, data)) return;
      const run = data.analysisRun;
      const st = run.status ?? {};
      console.log(
        `Name:        ${run.metadata.name}\nNamespace:   ${run.metadata.namespace}\nStatus:      ${withIcon(st.phase ?? 'Pending')}${st.message ? ` (${st.message})` : ''}\nAge:         ${age(run.metadata.creationTimestamp, new Date())}`,
      );
      for (const m of (st.metricResults ?? []) as Record<string, any>[]) {
        console.log(
          `\n${m.name}: ${withIcon(m.phase ?? 'Pending')}  successful ${m.successful ?? 0}, failed ${m.failed ?? 0}, inconclusive ${m.inconclusive ?? 0}, error ${m.error ?? 0}`,
        );
        printTable(
          ['  STARTED', 'PHASE', 'VALUE', 'MESSAGE'],
          ((m.measurements ?? []) as Record<string, any>[]).map((x) => [`  ${x.startedAt ?? '-'}`, x.phase ?? '', x.value ?? '', x.message ?? '']),
        );
      }
    },
  );
}
