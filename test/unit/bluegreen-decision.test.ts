import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Decision } from '../../domain/rollouts/actions';
import { decideRollout } from '../../domain/rollouts/decide';
import { progressFromStatus, type RolloutProgress } from '../../domain/rollouts/progress';
import type { BlueGreenStrategy, RolloutSpec } from '../../domain/rollouts/types';
import { converge, FakeCluster } from '../support/fake-cluster';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function bgSpec(bg: BlueGreenStrategy, replicas = 3): RolloutSpec {
  return {
    replicas,
    selector: { matchLabels: { app: 'demo' } },
    template: { metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'app', image: 'demo:blue' }] } },
    strategy: { blueGreen: { activeService: 'active', previewService: 'preview', ...bg } },
  };
}

function cluster(bg: BlueGreenStrategy, replicas = 3): FakeCluster {
  const c = new FakeCluster(bgSpec(bg, replicas));
  c.addService('active');
  c.addService('preview');
  return c;
}

const bluegreenDemo: BlueGreenStrategy = { autoPromotionEnabled: false, autoPromotionSeconds: 30, scaleDownDelaySeconds: 30, scaleDownDelayRevisionLimit: 1 };

test('steady state: both Services select the only ReplicaSet', () => {
  const c = cluster(bluegreenDemo);
  const d = converge(c, progressFromStatus(undefined), T0);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(c.selectorOf('active'), d.status.stableRS);
  assert.equal(c.selectorOf('preview'), d.status.stableRS);
  assert.deepEqual(d.status.blueGreen, { activeSelector: d.status.stableRS, previewSelector: d.status.stableRS });
});

test('bluegreen-demo: preview gets the new revision, promote switches active, old scales down after 30 s', () => {
  const c = cluster(bluegreenDemo);
  let d = converge(c, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS!;
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1000);
  const yellow = d.status.currentPodHash!;
  assert.equal(d.status.phase, 'Paused');
  assert.equal(d.status.pauseConditions?.[0].reason, 'BlueGreenPause');
  assert.equal(c.selectorOf('preview'), yellow);
  assert.equal(c.selectorOf('active'), blue);
  assert.equal(c.replicaSets.find((rs) => rs.podTemplateHash === yellow)!.specReplicas, 3);

  // autoPromotionSeconds is ignored while autoPromotionEnabled is false.
  d = converge(c, d.progress, T0 + 120_000);
  assert.equal(d.status.phase, 'Paused');
  assert.equal(c.selectorOf('active'), blue);

  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 130_000);
  assert.equal(c.selectorOf('active'), yellow);
  assert.equal(d.status.stableRS, yellow);
  assert.equal(d.status.phase, 'Healthy');
  const old = () => c.replicaSets.find((rs) => rs.podTemplateHash === blue)!;
  assert.equal(old().specReplicas, 3, 'kept up during the scale-down delay');
  assert.equal(d.wakeAt, T0 + 130_000 + 30_000);
  d = converge(c, d.progress, T0 + 130_000 + 29_999);
  assert.equal(old().specReplicas, 3);
  converge(c, d.progress, T0 + 160_000);
  assert.equal(old().specReplicas, 0);
});

test('auto-promotion without a pause, and after autoPromotionSeconds', () => {
  const auto = cluster({});
  let d = converge(auto, progressFromStatus(undefined), T0);
  auto.setImage('demo:yellow');
  d = converge(auto, d.progress, T0 + 1);
  assert.equal(auto.selectorOf('active'), d.status.currentPodHash);
  assert.equal(d.status.phase, 'Healthy');

  const timed = cluster({ autoPromotionSeconds: 20 });
  d = converge(timed, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS;
  timed.setImage('demo:yellow');
  d = converge(timed, d.progress, T0 + 1000);
  assert.equal(d.status.phase, 'Paused');
  assert.equal(d.wakeAt, T0 + 21_000);
  converge(timed, d.progress, T0 + 21_000);
  assert.notEqual(timed.selectorOf('active'), blue);
});

test('previewReplicaCount: preview at reduced size, full size before the switch', () => {
  const c = cluster({ autoPromotionEnabled: false, previewReplicaCount: 1 });
  let d = converge(c, progressFromStatus(undefined), T0);
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1);
  const yellow = () => c.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!;
  assert.equal(yellow().specReplicas, 1);
  d = converge(c, { ...d.progress, pauseConditions: [] }, T0 + 2);
  assert.equal(yellow().specReplicas, 3);
  assert.equal(c.selectorOf('active'), d.status.currentPodHash);
});

test('abort keeps production on the active ReplicaSet and scales the new one away after the abort delay', () => {
  const c = cluster({ autoPromotionEnabled: false, abortScaleDownDelaySeconds: 10 });
  let d = converge(c, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS!;
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1);
  d = converge(c, { ...d.progress, aborted: true, abortedAt: new Date(T0 + 2).toISOString() }, T0 + 2);
  assert.equal(d.status.phase, 'Degraded');
  assert.equal(c.selectorOf('active'), blue);
  assert.equal(c.selectorOf('preview'), blue);
  const yellow = () => c.replicaSets.find((rs) => rs.podTemplateHash === d.status.currentPodHash)!;
  assert.equal(yellow().specReplicas, 3);
  d = converge(c, d.progress, T0 + 10_002);
  assert.equal(yellow().specReplicas, 0);
});

test('a missing Service is an InvalidSpec naming the field, and nothing is done', () => {
  const c = new FakeCluster(bgSpec({}));
  c.addService('active');
  const d = decideRollout(c.snapshot(), progressFromStatus(undefined), T0);
  assert.equal(d.status.phase, 'Degraded');
  assert.match(d.status.message!, /spec\.strategy\.blueGreen\.previewService: Service "preview" not found/);
  assert.deepEqual(d.actions, []);
});

/** Plays the workflow's part for analyses: records a requested run with the given verdict. */
function withVerdict(d: Decision, phase: 'Running' | 'Successful' | 'Failed'): RolloutProgress {
  const analyses = [...(d.progress.analyses ?? [])];
  for (const req of d.startAnalyses ?? [])
    analyses.push({ key: req.key, runName: `run-${req.kind}`, phase, message: phase === 'Failed' ? 'Metric "errors" assessed Failed' : '' });
  return { ...d.progress, analyses: analyses.map((a) => (a.phase === 'Running' ? { ...a, phase } : a)) };
}

test('prePromotionAnalysis: the active Service switches only after it succeeds', () => {
  const analysis = { templates: [{ templateName: 'smoke' }] };
  const c = cluster({ prePromotionAnalysis: analysis });
  let d = converge(c, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS!;
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1);
  assert.equal(d.startAnalyses?.[0]?.kind, 'PrePromotion');
  assert.equal(c.selectorOf('active'), blue);
  d = converge(c, withVerdict(d, 'Running'), T0 + 2);
  assert.equal(c.selectorOf('active'), blue, 'still running: no switch');
  d = converge(c, withVerdict(d, 'Successful'), T0 + 3);
  assert.equal(c.selectorOf('active'), d.status.currentPodHash);
  assert.equal(d.status.phase, 'Healthy');
});

test('postPromotionAnalysis failing switches the active Service back and aborts', () => {
  const analysis = { templates: [{ templateName: 'soak' }] };
  const c = cluster({ postPromotionAnalysis: analysis });
  let d = converge(c, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS!;
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1);
  const yellow = d.status.currentPodHash!;
  assert.equal(c.selectorOf('active'), yellow, 'switched before the post-promotion analysis');
  assert.equal(d.status.stableRS, blue, 'not stable until it passes');
  assert.equal(d.startAnalyses?.[0]?.kind, 'PostPromotion');
  d = converge(c, withVerdict(d, 'Failed'), T0 + 2);
  assert.equal(d.status.phase, 'Degraded');
  assert.match(d.status.message!, /assessed Failed/);
  assert.equal(c.selectorOf('active'), blue, 'switched back to the old ReplicaSet');
  assert.equal(c.replicaSets.find((rs) => rs.podTemplateHash === blue)!.specReplicas, 3);
});

// Issue: with previewReplicaCount and automatic promotion, the release after
// autoPromotionSeconds scaled the preview to full size, and the next pass scaled it back
// to previewReplicaCount (the pause was still on), forever: it never promoted.
const autoPromotedPreview: BlueGreenStrategy = { previewReplicaCount: 1, autoPromotionEnabled: true, autoPromotionSeconds: 4, scaleDownDelaySeconds: 3 };

test('previewReplicaCount with autoPromotionSeconds: grows to full size once, switches, old goes after the delay', () => {
  const c = cluster(autoPromotedPreview, 4);
  let d = converge(c, progressFromStatus(undefined), T0);
  const blue = d.status.stableRS!;
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1000);
  const yellow = d.status.currentPodHash!;
  const rs = (hash: string) => c.replicaSets.find((r) => r.podTemplateHash === hash)!;
  assert.equal(d.status.phase, 'Paused');
  assert.equal(rs(yellow).specReplicas, 1);
  assert.equal(c.selectorOf('preview'), yellow);
  assert.equal(c.selectorOf('active'), blue);
  assert.equal(d.wakeAt, T0 + 5000);

  // The pods of the full-size preview come up late: the decision waits, it does not shrink it back.
  c.podsBecomeAvailable = false;
  const sizes: number[] = [];
  for (let pass = 0; pass < 10; pass++) {
    d = decideRollout(c.snapshot(), d.progress, T0 + 5000 + pass);
    c.status = d.status;
    for (const a of d.actions) c.apply(a);
    sizes.push(rs(yellow).specReplicas);
  }
  assert.deepEqual(sizes, Array(10).fill(4), 'scaled to the full count once and kept there');
  assert.equal(c.selectorOf('active'), blue, 'no switch before the full count is available');
  assert.equal(d.status.blueGreen?.scaleUpPreviewCheckPoint, true);

  c.podsBecomeAvailable = true;
  c.settle();
  d = converge(c, d.progress, T0 + 6000);
  assert.equal(c.selectorOf('active'), yellow);
  assert.equal(d.status.stableRS, yellow);
  assert.equal(d.status.phase, 'Healthy');
  assert.equal(d.status.blueGreen?.scaleUpPreviewCheckPoint, false, 'the checkpoint resets once the new revision is stable');
  assert.equal(rs(blue).specReplicas, 4, 'kept up during scaleDownDelaySeconds');
  assert.equal(d.wakeAt, T0 + 9000);
  converge(c, d.progress, T0 + 9000);
  assert.equal(rs(blue).specReplicas, 0);
});

test('previewReplicaCount with immediate automatic promotion: preview grows to full size and switches', () => {
  const c = cluster({ previewReplicaCount: 1 }, 4);
  let d = converge(c, progressFromStatus(undefined), T0);
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1000);
  assert.equal(c.selectorOf('active'), d.status.currentPodHash);
  assert.equal(d.status.phase, 'Healthy');
});

test('previewReplicaCount: the checkpoint is read back from the status when a rollout is adopted mid-scale-up', () => {
  const c = cluster(autoPromotedPreview, 4);
  let d = converge(c, progressFromStatus(undefined), T0);
  c.setImage('demo:yellow');
  d = converge(c, d.progress, T0 + 1000);
  c.podsBecomeAvailable = false;
  d = decideRollout(c.snapshot(), d.progress, T0 + 5000);
  c.status = d.status;
  for (const a of d.actions) c.apply(a);
  // A fresh workflow (no carried progress) reads the Argo-shaped status.
  d = decideRollout(c.snapshot(), progressFromStatus(c.status), T0 + 5001);
  assert.deepEqual(
    d.actions.filter((a) => a.kind === 'scaleReplicaSet'),
    [],
  );
});
