// jqPathExpressions through the real gojq (built into the tool cache on first use).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { JqExpressionError, JqPaths } from '../../activities/jq';
import { useCachedRenderers } from '../../stack/toolchain';

let jq: JqPaths;
before(async () => {
  await useCachedRenderers((l) => console.log(l));
  jq = new JqPaths();
});

const deploy = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'a:1' },
          { name: 'sidecar', image: 'b:1' },
        ],
      },
    },
  },
});

test('a path expression with select removes just what it selects', async () => {
  const out = await jq.strip(deploy(), ['.spec.template.spec.containers[] | select(.name == "sidecar") | .image']);
  assert.deepEqual(out.spec, { replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'a:1' }, { name: 'sidecar' }] } } });
});

test('several expressions apply in turn; one that fails at run time leaves the object as it was', async () => {
  const out = await jq.strip(deploy(), ['.spec.replicas', '.metadata.name | .[0]']);
  assert.equal((out.spec as { replicas?: number }).replicas, undefined);
  assert.equal(out.metadata.name, 'web');
});

test('an expression that replaces the object instead of deleting from it is ignored', async () => {
  const input = deploy();
  assert.deepEqual(await jq.strip(input, ['.spec) | {apiVersion: "v1"} | (.x']), input);
});

test('no environment reaches an expression', async () => {
  assert.ok(Object.keys(process.env).length > 0);
  // Deletes the template only if gojq sees any environment variable.
  const out = await jq.strip(deploy(), ['.spec.template | select($ENV | length > 0)']);
  assert.deepEqual(out.spec, deploy().spec);
  const stripped = (await jq.strip(deploy(), ['.spec.template | select($ENV | length == 0)'])).spec as { template?: unknown };
  assert.equal(stripped.template, undefined);
});

test('an expression gojq cannot compile is a clear error naming it', async () => {
  await assert.rejects(
    jq.strip(deploy(), ['.spec.replicas[']),
    (err: Error) => err instanceof JqExpressionError && /jqPathExpressions "\.spec\.replicas\["/.test(err.message),
  );
});
