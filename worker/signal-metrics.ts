// How much the watchers ask of Temporal: every signal and signalWithStart this process's
// client sends, by call and signal name, served at /metrics as
// sluice_temporal_signals_total. Several replicas each watch every object; this is the
// figure that shows whether they multiply the load (test/bench/replica-signals.ts).
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { Counter } from 'prom-client';

export const temporalSignals = new Counter({
  name: 'sluice_temporal_signals_total',
  help: 'Signals this process sent to workflows (signal, or signalWithStart), by signal name',
  labelNames: ['call', 'signal'],
  registers: [],
});

export const signalCounter: WorkflowClientInterceptor = {
  async signal(input, next) {
    temporalSignals.inc({ call: 'signal', signal: input.signalName });
    return next(input);
  },
  async signalWithStart(input, next) {
    temporalSignals.inc({ call: 'signalWithStart', signal: input.signalName });
    return next(input);
  },
};
