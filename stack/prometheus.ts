// A Prometheus server for analysis, from Debian's package, with its own config and
// data directory. Scrape targets are files in targets/ that tests and Sluice write.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../k8s/wait';
import { freePort, ProcessGroup, type ManagedProcess } from './process-group';

export interface LocalPrometheus {
  url: string;
  targetsDir: string;
  /** Scrape these host:port targets under a job name, within a second or two. */
  setTargets(job: string, targets: string[], labels?: Record<string, string>): void;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  binary: string;
  stateDir: string;
  port?: number;
  scrapeInterval?: string;
  log?: (l: string) => void;
}): Promise<LocalPrometheus> {
  const port = opts.port ?? (await freePort());
  const targetsDir = path.join(opts.stateDir, 'targets');
  fs.mkdirSync(targetsDir, { recursive: true });
  const configFile = path.join(opts.stateDir, 'prometheus.yml');
  const interval = opts.scrapeInterval ?? '1s';
  fs.writeFileSync(
    configFile,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: file-targets',
      '    file_sd_configs:',
      `      - files: ['${targetsDir}/*.json']`,
      '        refresh_interval: 1s',
      '',
    ].join('\n'),
  );
  const processes = new ProcessGroup(path.join(opts.stateDir, 'logs'));
  const url = `http://127.0.0.1:${port}`;
  opts.log?.(`starting prometheus on ${url}`);
  const proc: ManagedProcess = processes.start('prometheus', opts.binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(opts.stateDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1d',
  ]);
  try {
    await waitFor('prometheus', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 60_000, processes.failOnExit(proc));
  } catch (err) {
    await processes.stop();
    throw err;
  }
  return {
    url,
    targetsDir,
    setTargets(job, targets, labels = {}) {
      const file = path.join(targetsDir, `${job}.json`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify([{ targets, labels: { job, ...labels } }]));
      fs.renameSync(`${file}.tmp`, file);
    },
    stop: () => processes.stop(),
  };
}
