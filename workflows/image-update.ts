// One workflow per Application with Image Updater annotations (ID image-update/<ns>/<name>):
// at a durable interval (default 2 min), or at once when a registry webhook or the watcher
// signals, it checks the Application's images (activity: registry reads, no secrets in
// the result), decides in pure code what to write (domain/images/selection.ts), and writes
// it back in one activity whose commit time it fixes, so a retried write makes the same
// commit. It remembers per image what it last wrote and for which registry state, so a
// reverted write is not repeated until the registry changes. Problems become Warning
// Events on the Application, once per distinct message.
import { condition, continueAsNew, log, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ImageActivities } from '../activities/images/activities';
import { decideWrite, valueKey, type LastWrite } from '../domain/images/selection';
import { imageConditionMessage } from '../domain/images/condition';
import { imageUpdateNudgeSignal, imageUpdateStatusQuery, type ImageUpdateStatus } from './definitions';

export interface ImageUpdateState {
  last: Record<string, LastWrite>;
  /** Hashes (the messages) of problems already reported as Events. */
  reported: string[];
}

export interface ImageUpdateWorkflowInput {
  namespace: string;
  name: string;
  intervalMs?: number;
  state?: ImageUpdateState;
}

export const DEFAULT_IMAGE_CHECK_INTERVAL_MS = 2 * 60_000;

const check = proxyActivities<ImageActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
});
const write = proxyActivities<ImageActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '10s', // a worker killed mid-write: retried elsewhere soon, from a fresh fetch
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
});

const MAX_ITERATIONS_PER_RUN = 200;

/** An activity failure's own message ("Activity task failed" says nothing). */
const causeOf = (err: unknown): string => ((err as { cause?: Error }).cause?.message ?? (err as Error).message) || String(err);

export async function imageUpdateWorkflow(input: ImageUpdateWorkflowInput): Promise<void> {
  const ref = { namespace: input.namespace, name: input.name };
  const interval = input.intervalMs ?? DEFAULT_IMAGE_CHECK_INTERVAL_MS;
  const state: ImageUpdateState = input.state ?? { last: {}, reported: [] };
  let nudged = false;
  let fresh = false;
  const status: ImageUpdateStatus = { images: [], problems: [] };
  setHandler(imageUpdateNudgeSignal, (n) => {
    nudged = true;
    // A registry said something changed: what is remembered per tag may be stale (a re-pushed tag).
    if (/webhook/.test(n.reason)) fresh = true;
  });
  setHandler(imageUpdateStatusQuery, () => status);

  for (let iteration = 0; ; iteration++) {
    nudged = false; // a signal during this check wakes the next one at once
    const forget: boolean = fresh;
    fresh = false;
    let result: Awaited<ReturnType<ImageActivities['checkApplicationImages']>>;
    try {
      result = await check.checkApplicationImages(ref, { forgetTags: forget });
    } catch (err) {
      // The Kubernetes API or git out of reach for a while: try again at the next interval, never end the loop.
      status.problems = [`check failed: ${causeOf(err)}`];
      log.warn('image check failed', { application: `${ref.namespace}/${ref.name}`, message: causeOf(err) });
      fresh ||= forget;
      await condition(() => nudged, interval);
      if (iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) await continueAsNew<typeof imageUpdateWorkflow>({ ...input, state });
      continue;
    }
    if (!result) return; // the Application is gone or no longer asks for image updates
    const now = new Date(Date.now()).toISOString();
    status.lastCheckedAt = now;
    const problems = [
      ...result.problems.map((p) => (p.alias ? `image ${p.alias}: ${p.message}` : p.message)),
      ...result.images.filter((i) => i.error).map((i) => `image ${i.alias || i.image}: ${i.error}`),
    ];
    status.problems = problems;
    const report = async (list: string[]) => {
      for (const p of list) {
        if (state.reported.includes(p)) continue;
        state.reported.push(p);
        log.warn('image update problem', { application: `${ref.namespace}/${ref.name}`, problem: p });
        await check.recordImageEvent({
          app: ref,
          uid: result!.uid,
          name: `${ref.name}.image-update.${Date.now().toString(36)}.${state.reported.length}`,
          type: 'Warning',
          reason: 'ImageUpdateFailed',
          message: p,
          at: now,
        });
      }
    };
    await report(problems);
    // ImageUpdateError on the Application (v2): a failed write-back is a problem too, kept reported while it recurs.
    const withCondition = patched('image-update-condition');
    // A problem that went away may be reported again if it comes back.
    if (!withCondition) state.reported = state.reported.filter((p) => problems.includes(p));

    const writes: { alias: string; tag: string; digest?: string; key: string; fingerprint: string }[] = [];
    status.images = result.images.map((img) => {
      const chosen = valueKey(img.chosen);
      let reason = img.reason;
      if (img.chosen && chosen && img.fingerprint && !img.error) {
        const d = decideWrite({ chosen, current: img.current, fingerprint: img.fingerprint, last: state.last[img.alias] });
        reason = `${img.reason}; ${d.reason}`;
        if (d.write) writes.push({ alias: img.alias, ...img.chosen, key: chosen, fingerprint: img.fingerprint });
      }
      return {
        alias: img.alias,
        image: img.image,
        strategy: img.strategy,
        ...(img.current ? { current: img.current } : {}),
        ...(chosen ? { chosen } : {}),
        reason,
        ...(img.error ? { error: img.error } : {}),
      };
    });
    const written: { alias: string; image: string; newVersion: string }[] = [];
    if (writes.length > 0) {
      try {
        const res = await write.writeBackImages({
          app: ref,
          updates: writes.map(({ alias, tag, digest }) => ({ alias, tag, ...(digest ? { digest } : {}) })),
          commitTimeMs: Date.now(),
        });
        for (const w of writes) state.last[w.alias] = { value: w.key, fingerprint: w.fingerprint };
        if (res.committed)
          for (const w of writes)
            written.push({ alias: w.alias, image: result.images.find((i) => i.alias === w.alias)?.image ?? w.alias, newVersion: w.digest ?? w.tag });
        status.lastWrite = { at: now, message: res.message };
        if (res.committed)
          await check.recordImageEvent({
            app: ref,
            uid: result.uid,
            name: `${ref.name}.image-update.${Date.now().toString(36)}.w`,
            type: 'Normal',
            reason: 'ImagesUpdated',
            message: res.message,
            at: now,
          });
      } catch (err) {
        const message = `write-back failed: ${causeOf(err)}`;
        status.problems.push(message);
        log.warn('image write-back failed', { application: `${ref.namespace}/${ref.name}`, message });
        if (withCondition) await report([message]); // status.problems is `problems`: the condition names it too
      }
    }
    if (withCondition) {
      state.reported = state.reported.filter((p) => problems.includes(p));
      const message = imageConditionMessage(problems);
      if (message !== result.condition) await check.setImageCondition({ app: ref, ...(message !== undefined ? { message } : {}), at: now });
    }
    // Settings from an ImageUpdater: its status counts this check and what it wrote.
    if (result.imageUpdater && patched('image-updater-status'))
      await check.reportImageUpdater({ app: ref, imageUpdater: result.imageUpdater, updates: written, at: now });
    setCurrentDetails(`**image updates ${ref.namespace}/${ref.name}**: ${status.images.map((i) => `${i.alias || i.image}=${i.current ?? '?'}`).join(', ')}`);
    await condition(() => nudged, interval);
    if (iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) await continueAsNew<typeof imageUpdateWorkflow>({ ...input, state });
  }
}
