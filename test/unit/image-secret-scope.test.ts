// Which Secrets an image update may read: its Application's namespace, anything for an
// Application of the control plane, and the namespace of the registries.conf that names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretRefusal } from '../../domain/images/secret-scope';

const cp = 'argocd';

test('an annotation names Secrets of its own namespace; the control plane any', () => {
  assert.equal(secretRefusal('team-a', 's', { appNamespace: 'team-a', controlPlaneNamespace: cp }), undefined);
  assert.match(secretRefusal('argocd', 's', { appNamespace: 'team-a', controlPlaneNamespace: cp }) ?? '', /argocd\/s refused/);
  assert.equal(secretRefusal('team-a', 's', { appNamespace: 'argocd', controlPlaneNamespace: cp }), undefined);
});

test("registries.conf: the control plane's may name any Secret; a team's only its own", () => {
  assert.equal(secretRefusal('vault', 's', { appNamespace: 'team-a', controlPlaneNamespace: cp, configNamespace: cp }), undefined);
  assert.match(secretRefusal('team-b', 's', { appNamespace: 'team-a', controlPlaneNamespace: cp, configNamespace: 'team-a' }) ?? '', /refused/);
  assert.equal(secretRefusal('team-a', 's', { appNamespace: 'team-a', controlPlaneNamespace: cp, configNamespace: 'team-a' }), undefined);
});
