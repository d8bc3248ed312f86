// A Temporal worker started only once its task queue has work: the notifications Worker
// costs a workflow thread of its own (its V8 isolate, the bundle, a cache; ~50 MiB resident)
// in every process, also where nothing is subscribed. It starts when this process starts a
// workflow on its queue (the client interceptor below), or when an open run is found there:
// at start (runs left by an earlier process) and every checkEveryMs until then (runs another
// replica started and left behind when it exited). Once started it runs until the process stops.
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Log } from './logger';

/** How often an idle process looks for open runs it should serve. */
export const OPEN_RUNS_CHECK_MS = 10_000;

export class WorkerOnDemand {
  private running?: Promise<{ worker: Worker; run: Promise<void> }>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly opts: {
      taskQueue: string;
      create: () => Promise<Worker>;
      /** Whether a run is open on the queue; a failure to tell starts the worker. */
      hasOpenRuns: () => Promise<boolean>;
      log: Log;
      checkEveryMs?: number;
    },
  ) {}

  /** Starts the worker at once if runs are open on its queue, else looks again every checkEveryMs. */
  async begin(): Promise<void> {
    await this.check();
    this.watch();
  }

  private watch(): void {
    if (this.running || this.stopped) return;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.check(), this.opts.checkEveryMs ?? OPEN_RUNS_CHECK_MS);
    this.timer.unref();
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Starts the worker unless it runs already (idempotent). */
  start(reason: string): void {
    if (this.running || this.stopped) return;
    clearInterval(this.timer);
    this.opts.log('worker starting on demand', { taskQueue: this.opts.taskQueue, reason });
    const running = this.opts.create().then((worker) => ({ worker, run: worker.run() }));
    this.running = running;
    running.catch((err: unknown) => {
      // The next demand, or the next check, tries again.
      this.opts.log('worker failed to start', { taskQueue: this.opts.taskQueue, error: String(err) });
      if (this.running === running) this.running = undefined;
      this.watch();
    });
  }

  /** No new tasks; in-flight ones finish (the worker's drain options). */
  async drain(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const running = await this.running?.catch(() => undefined);
    if (!running) return;
    if (running.worker.getState() === 'RUNNING') running.worker.shutdown();
    await running.run;
  }

  /** Starts the worker when this process's client starts a workflow on its queue. */
  interceptor(): WorkflowClientInterceptor {
    return {
      start: async (input, next) => {
        if (input.options.taskQueue === this.opts.taskQueue) this.start(`${input.workflowType} started`);
        return next(input);
      },
      signalWithStart: async (input, next) => {
        if (input.options.taskQueue === this.opts.taskQueue) this.start(`${input.workflowType} signalled with start`);
        return next(input);
      },
    };
  }

  private async check(): Promise<void> {
    if (this.running || this.stopped) return;
    let open: boolean;
    try {
      open = await this.opts.hasOpenRuns();
    } catch (err) {
      this.opts.log('cannot tell whether runs are open on the task queue; starting its worker', { taskQueue: this.opts.taskQueue, error: String(err) });
      open = true;
    }
    if (open) this.start('open runs on its task queue');
  }
}

/** The visibility query for runs open on a task queue. */
export const openRunsQuery = (taskQueue: string): string => `TaskQueue = ${JSON.stringify(taskQueue)} AND ExecutionStatus = "Running"`;
