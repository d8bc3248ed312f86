// Marker comments on plain-directory sources (Flux's `# {"$imagepolicy": "<ns>:<name>"}`
// form, the name being the image's alias): whole reference, `:tag` and `:name` fields,
// quoting and spacing kept, other lines and other aliases untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMarkers, currentFromMarkers, parsePolicy } from '../../domain/images/markers';

const doc = `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: web
          image: reg.example/team/web:1.0.0 # {"$imagepolicy": "default:web"}
        - name: side
          image: "reg.example/team/side:2.0.0"   #   {"$imagepolicy":"flux-system:side"} keep me
        - name: other
          image: reg.example/team/other:3.0.0
---
values:
  tag: '1.0.0' # {"$imagepolicy": "default:web:tag"}
  repository: old.example/web # {"$imagepolicy": "default:web:name"}
`;

test('policy strings: namespace:alias, with :tag or :name, or a bare alias', () => {
  assert.deepEqual(parsePolicy('default:web'), { alias: 'web', field: 'image' });
  assert.deepEqual(parsePolicy('default:web:tag'), { alias: 'web', field: 'tag' });
  assert.deepEqual(parsePolicy('default:web:name'), { alias: 'web', field: 'name' });
  assert.deepEqual(parsePolicy('web'), { alias: 'web', field: 'image' });
});

test('what the marked lines hold now: the tag of the first marked image line', () => {
  assert.equal(currentFromMarkers(doc, 'web'), '1.0.0');
  assert.equal(currentFromMarkers(doc, 'side'), '2.0.0');
  assert.equal(currentFromMarkers(doc, 'other'), undefined, 'no marker, not followed');
  assert.equal(currentFromMarkers('image: reg/x@sha256:' + 'a'.repeat(64) + ' # {"$imagepolicy": "n:x"}', 'x'), `sha256:${'a'.repeat(64)}`);
});

test('rewrites only the marked lines of the alias, keeping quotes, spacing and the rest byte for byte', () => {
  const out = applyMarkers(doc, [{ alias: 'web', name: 'reg.example/team/web', chosen: { tag: '1.2.0' } }]);
  assert.equal(
    out,
    doc
      .replace('reg.example/team/web:1.0.0 #', 'reg.example/team/web:1.2.0 #')
      .replace("tag: '1.0.0'", "tag: '1.2.0'")
      .replace('repository: old.example/web', 'repository: reg.example/team/web'),
  );
  const side = applyMarkers(doc, [{ alias: 'side', name: 'reg.example/team/side', chosen: { tag: '2.1.0' } }]);
  assert.match(side, /image: "reg\.example\/team\/side:2\.1\.0" {3}# {3}\{"\$imagepolicy":"flux-system:side"\} keep me/);
  assert.equal(applyMarkers(doc, [{ alias: 'side', name: 'reg.example/team/side', chosen: { tag: '2.0.0' } }]), doc, 'nothing to change: the same text');
  const digest = `sha256:${'b'.repeat(64)}`;
  assert.match(
    applyMarkers(doc, [{ alias: 'web', name: 'reg.example/team/web', chosen: { tag: 'latest', digest } }]),
    new RegExp(`image: reg\\.example/team/web@${digest} #`),
  );
});
