// A template that Argo's `kubectl argo rollouts undo` copied from a ReplicaSet (defaults filled in, hash label removed) is that ReplicaSet's template.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameTemplateIgnoringHash } from '../../activities/rollout';

const live = {
  metadata: { labels: { app: 'demo', 'rollouts-pod-template-hash': 'abc123' } },
  spec: {
    containers: [{ name: 'app', image: 'demo:yellow', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', resources: {} }],
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
  },
};

test("the plugin's copy (Go's empty values included) equals the ReplicaSet's template", () => {
  const copy = structuredClone(live) as typeof live & { metadata: { creationTimestamp?: null } };
  copy.metadata.creationTimestamp = null;
  assert.ok(sameTemplateIgnoringHash(live, copy));
  const withoutLabel = structuredClone(live) as { metadata: { labels: Record<string, string> } };
  delete withoutLabel.metadata.labels['rollouts-pod-template-hash'];
  assert.ok(sameTemplateIgnoringHash(live, withoutLabel), 'the hash label is set aside');
});

test('a copy edited afterwards (another image) is a new template', () => {
  const edited = structuredClone(live);
  edited.spec.containers[0].image = 'demo:green';
  assert.equal(sameTemplateIgnoringHash(live, edited), false);
  const relabelled = structuredClone(live) as { metadata: { labels: Record<string, string> } };
  relabelled.metadata.labels.tier = 'web';
  assert.equal(sameTemplateIgnoringHash(live, relabelled), false);
});
