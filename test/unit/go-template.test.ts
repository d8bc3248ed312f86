// The Go template engine (stack/gotemplate, built into the tool cache on first use) through
// its client. Expected values are Argo CD's: its ApplicationSet "Go Template" page, the
// cases of applicationset/utils' tests, and the notification docs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  GoTemplateEngine,
  GoTemplateError,
  missingKeyFromGoTemplateOptions,
  renderGoTemplate,
  renderGoTemplates,
  renderTemplateObject,
  type GoTemplateOptions,
} from '../../activities/templating/go-template';
import { ensureGoTemplate } from '../../stack/toolchain';

let engine: GoTemplateEngine;
before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
  engine = new GoTemplateEngine();
});
after(() => engine.close());

const appset: GoTemplateOptions = { functions: 'applicationset' };
const strict: GoTemplateOptions = { functions: 'applicationset', missingKey: 'error' };
const render = (t: string, data: unknown, o: GoTemplateOptions = appset) => renderGoTemplate(t, data, o, engine);
const failure = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GoTemplateError, String(err));
    return err.message;
  }
  assert.fail('expected a GoTemplateError');
};

test('git directory parameters as the Go Template page migrates them: .path.basename, .path.path, index .path.segments', async () => {
  const template = {
    metadata: { name: '{{.path.basename}}' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://github.com/argoproj/argo-cd.git', targetRevision: 'HEAD', path: '{{.path.path}}' },
      destination: { server: 'https://kubernetes.default.svc', namespace: '{{index .path.segments 1}}' },
    },
  };
  const params = { path: { path: 'apps/guestbook', basename: 'guestbook', segments: ['apps', 'guestbook'] } };
  assert.deepEqual(await renderTemplateObject(template, params, strict, engine), {
    metadata: { name: 'guestbook' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://github.com/argoproj/argo-cd.git', targetRevision: 'HEAD', path: 'apps/guestbook' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'guestbook' },
    },
  });
});

test('the fallback example: dig with a default gives engineering-dev and engineering-prod-my-name-suffix', async () => {
  const name = '{{.cluster}}{{dig "nameSuffix" "" .}}';
  const out = await renderGoTemplates(
    [
      { template: name, data: { cluster: 'engineering-dev', url: 'https://kubernetes.default.svc' }, options: strict },
      { template: name, data: { cluster: 'engineering-prod', url: 'https://kubernetes.default.svc', nameSuffix: '-my-name-suffix' }, options: strict },
    ],
    engine,
  );
  assert.deepEqual(out, [{ output: 'engineering-dev' }, { output: 'engineering-prod-my-name-suffix' }]);
});

test('normalize: lower case, invalid characters to -, trimmed', async () => {
  assert.equal(await render('{{ .name | normalize }}', { name: 'In-Cluster_Prod.EU/' }), 'in-cluster-prod.eu');
  assert.equal(await render('{{ normalize .path.path }}', { path: { path: 'apps/Guest Book' } }), 'apps-guest-book');
});

test("slugify with Argo's own cases: length and smart truncation", async () => {
  const long = 'feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature';
  const word = 'feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature';
  assert.equal(await render('{{ slugify 50 false .branch }}', { branch: long }), 'feat-a-really-long-pull-request-name-to-test-argo');
  assert.equal(await render('{{ slugify 53 true .branch }}', { branch: long }), 'feat-a-really-long-pull-request-name-to-test-argo');
  assert.equal(await render('{{ slugify 50 true .branch }}', { branch: word }), 'feat');
  assert.equal(await render('{{ slugify 50 false .branch }}', { branch: word }), 'feat-areallylongpullrequestnametotestargoslugifica');
  // The page's pipeline form: the branch is the last argument.
  assert.equal(await render('{{ cat .branch | slugify 23 }}', { branch: long }), 'feat-a-really-long-pull');
});

test('missingkey: <no value> by default, an error with missingkey=error (Argo wording)', async () => {
  const data = { unused: 'this is not used' };
  assert.equal(await render('--> {{.doesnotexist}} <--', data), '--> <no value> <--');
  assert.equal(await render('--> {{.doesnotexist}} <--', data, { ...appset, missingKey: 'zero' }), '--> <no value> <--');
  assert.equal(
    await failure(render('--> {{.doesnotexist}} <--', data, { ...appset, missingKey: missingKeyFromGoTemplateOptions(['missingkey=error']) })),
    'failed to execute go template --> {{.doesnotexist}} <--: template: base:1:6: executing "base" at <.doesnotexist>: map has no entry for key "doesnotexist"',
  );
  assert.throws(() => missingKeyFromGoTemplateOptions(['missingkey=maybe']), /unrecognized option "missingkey=maybe"/);
});

test('toYaml, fromYaml, fromYamlArray and their errors, as in Argo', async () => {
  const foo = { foo: { bar: { bool: true, number: 2, str: 'Hello world' } } };
  assert.equal(await render('{{ toYaml . | indent 2 }}', foo), '  foo:\n    bar:\n      bool: true\n      number: 2\n      str: Hello world');
  assert.equal(await render('{{ get (fromYaml .value) "hello" }}', { value: 'hello: world' }), 'world');
  assert.equal(await render('{{ fromYamlArray .value | last }}', { value: '- hello world\n- bonjour tout le monde' }), 'bonjour tout le monde');
  assert.equal(
    await failure(render('{{ get (fromYaml .value) "hello" }}', { value: 'non\n compliant\n yaml' })),
    'failed to execute go template {{ get (fromYaml .value) "hello" }}: template: base:1:8: executing "base" at <fromYaml .value>: ' +
      'error calling fromYaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}',
  );
});

test('Sprig as Argo allows it: default, upper, and no env, expandenv or getHostByName', async () => {
  assert.equal(await render('{{ .missing | default "fallback" }}-{{ upper .a }}', { a: 'x' }), 'fallback-X');
  assert.equal(await failure(render('{{ env "HOME" }}', { a: 1 })), 'failed to parse template {{ env "HOME" }}: template: base:1: function "env" not defined');
  assert.match(await failure(render('{{ expandenv "$HOME" }}', { a: 1 })), /function "expandenv" not defined/);
  assert.match(await failure(render('{{ getHostByName "localhost" }}', { a: 1 })), /function "getHostByName" not defined/);
});

test('Argo number semantics: generator numbers are float64, printed as Go prints them', async () => {
  const ifElse = '{{ if .hpa.enabled }}{{ .hpa.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}';
  assert.equal(await render(ifElse, { replicas: 3, hpa: { enabled: true, maxReplicas: 5 } }), '5');
  assert.equal(await render(ifElse, { replicas: 3, hpa: { enabled: false, maxReplicas: 5 } }), '3');
  const volumes = { volumes: [{ name: 'volume-one' }, { name: 'volume-two' }] };
  assert.equal(await render('{{ range .volumes }}[{{ .name }}]{{ end }}', volumes), '[volume-one][volume-two]');
});

test('a template that does not parse names the problem', async () => {
  assert.equal(
    await failure(render('{{functiondoesnotexist}}', { data: 'a data string' })),
    'failed to parse template {{functiondoesnotexist}}: template: base:1: function "functiondoesnotexist" not defined',
  );
  assert.equal(await failure(render('name-{{ .cluster ', { cluster: 'a' })), 'failed to parse template name-{{ .cluster : template: base:1: unclosed action');
  assert.equal(
    await failure(render('{{.data.test}}', { data: 'a data string' })),
    'failed to execute go template {{.data.test}}: template: base:1:7: executing "base" at <.data.test>: can\'t evaluate field test in type interface {}',
  );
});

test('renderTemplateObject: keys are templated, null values dropped, non-strings kept, no params leaves the template as it is', async () => {
  const template = {
    metadata: { name: '{{.cluster}}-app', labels: { 'env-{{.cluster}}': 'true' }, annotations: null },
    spec: { source: { helm: { valuesObject: { replicas: 2, enabled: false, name: '{{ upper .cluster }}', list: ['{{.cluster}}', null, 1] } } } },
  };
  assert.deepEqual(await renderTemplateObject(template, { cluster: 'dev' }, appset, engine), {
    metadata: { name: 'dev-app', labels: { 'env-dev': 'true' } },
    spec: { source: { helm: { valuesObject: { replicas: 2, enabled: false, name: 'DEV', list: ['dev', null, 1] } } } },
  });
  assert.equal(await renderTemplateObject(template, {}, appset, engine), template);
  // Each field is its own template, so control keywords cannot span fields (the page's limitation).
  const acrossFields = { spec: { parameters: [{ name: '{{range .parameters}}' }, { name: '{{.name}}' }] } };
  const err = await renderTemplateObject(acrossFields, { parameters: [] }, strict, engine)
    .then(() => undefined)
    .catch((e: unknown) => e);
  assert.ok(err instanceof GoTemplateError);
  assert.match(err.message, /^failed to parse template \{\{range \.parameters\}\}: template: base:1: unexpected EOF$/);
  assert.deepEqual(err.path, ['spec', 'parameters', 0, 'name']);
});

test('templatePatch is one template rendered to YAML text', async () => {
  const patch = '{{- if .autoSync }}\nspec:\n  syncPolicy:\n    automated:\n      prune: {{ .prune }}\n{{- end }}\n';
  assert.equal(await render(patch, { autoSync: true, prune: true }), '\nspec:\n  syncPolicy:\n    automated:\n      prune: true\n');
  assert.equal(await render(patch, { autoSync: false, prune: true }), '\n');
});

const app = {
  metadata: { name: 'frontend-app', namespace: 'argocd' },
  spec: { project: 'default', source: { repoURL: 'git@github.com:argoproj/argocd-example-apps.git' } },
  operation: { info: [{ name: 'reason', value: 'hotfix' }] },
  status: {
    sync: { status: 'Synced', revision: 'abc123' },
    health: { status: 'Healthy' },
    operationState: { phase: 'Succeeded', startedAt: '2024-05-06T07:08:09Z' },
    history: [{ id: 1 }, { id: 2 }],
  },
};
const notifications: GoTemplateOptions = { functions: 'notifications', name: 'app-sync-succeeded' };

test('notification templates: the docs example, context, serviceType, and the time/strings/sync/repo helpers', async () => {
  const vars = { app, context: { argocdUrl: 'https://argocd.example.com' }, serviceType: 'slack', recipient: 'team' };
  const out = await renderGoTemplates(
    [
      { template: 'Application {{.app.metadata.name}} sync is {{.app.status.sync.status}}.', data: vars, options: notifications },
      { template: 'Application details: {{.context.argocdUrl}}/applications/{{.app.metadata.name}}.', data: vars, options: notifications },
      { template: '{{if eq .serviceType "slack"}}:white_check_mark:{{end}}', data: vars, options: notifications },
      { template: '{{ (call .time.Parse .app.status.operationState.startedAt).Format "2006-01-02 15:04" }}', data: vars, options: notifications },
      { template: '{{ call .strings.ToUpper .app.status.health.status }} {{ call .strings.ReplaceAll "a-b-c" "-" "." }}', data: vars, options: notifications },
      { template: '{{ call .sync.GetInfoItem .app "reason" }}', data: vars, options: notifications },
      {
        template: '{{ call .repo.RepoURLToHTTPS .app.spec.source.repoURL }} {{ call .repo.FullNameByRepoURL .app.spec.source.repoURL }}',
        data: vars,
        options: notifications,
      },
      // Kubernetes objects are read as unstructured: whole numbers are integers (printf %d works).
      { template: '{{ printf "%d" (len .app.status.history) }} {{ printf "%d" (index .app.status.history 1).id }}', data: vars, options: notifications },
    ],
    engine,
  );
  assert.deepEqual(out, [
    { output: 'Application frontend-app sync is Synced.' },
    { output: 'Application details: https://argocd.example.com/applications/frontend-app.' },
    { output: ':white_check_mark:' },
    { output: '2024-05-06 07:08' },
    { output: 'HEALTHY a.b.c' },
    { output: 'hotfix' },
    { output: 'https://github.com/argoproj/argocd-example-apps.git argoproj/argocd-example-apps' },
    { output: '2 2' },
  ]);
});

test('notification repo.GetCommitMetadata answers from what the caller gives, and names what is missing', async () => {
  const options: GoTemplateOptions = {
    ...notifications,
    repo: { commits: { abc123: { Message: 'Fix it', Author: 'Jane <jane@example.com>', Date: '2024-05-06T07:00:00Z', Tags: ['v1.2.3'] } } },
  };
  assert.equal(
    await renderGoTemplate(
      'Author: {{(call .repo.GetCommitMetadata .app.status.sync.revision).Author}} {{ (call .repo.GetCommitMetadata "abc123").Date.Year }}',
      { app },
      options,
      engine,
    ),
    'Author: Jane <jane@example.com> 2024',
  );
  assert.match(
    await failure(renderGoTemplate('{{(call .repo.GetCommitMetadata "fff").Author}}', { app }, options, engine)),
    /^template: app-sync-succeeded:.*error calling call: repo\.GetCommitMetadata: no metadata for commit "fff" was given to the template$/,
  );
  // Notification templates keep env out too.
  assert.match(await failure(renderGoTemplate('{{ env "HOME" }}', { app }, notifications, engine)), /function "env" not defined/);
});

test('one batch of 1,000 parameter sets renders in one go', async () => {
  const template = { metadata: { name: '{{.name}}-{{.index}}' }, spec: { destination: { namespace: '{{ .name | normalize }}' } } };
  const started = Date.now();
  const apps = await Promise.all(Array.from({ length: 1000 }, (_, i) => renderTemplateObject(template, { name: `Team_${i % 7}`, index: i }, strict, engine)));
  assert.equal(apps.length, 1000);
  assert.deepEqual(apps[999], { metadata: { name: 'Team_5-999' }, spec: { destination: { namespace: 'team-5' } } });
  console.log(`1,000 template objects in ${Date.now() - started} ms`);
});

test('the helper killed mid-batch is restarted and the batch still answers', async () => {
  const own = new GoTemplateEngine();
  try {
    assert.equal(await renderGoTemplate('{{.a}}', { a: 'warm' }, appset, own), 'warm');
    const pid = own.pid!;
    // Heavy enough that the helper is still working when it is killed.
    const requests = Array.from({ length: 300 }, (_, i) => ({ template: '{{ range until 20000 }}x{{ end }}{{ .i }}', data: { i }, options: appset }));
    const pendingBatch = renderGoTemplates(requests, own);
    while (own.inFlight === 300) await new Promise((r) => setTimeout(r, 5));
    const answeredBeforeKill = 300 - own.inFlight;
    process.kill(pid, 'SIGKILL');
    assert.ok(answeredBeforeKill > 0 && answeredBeforeKill < 300, `killed after ${answeredBeforeKill} answers`);
    const out = await pendingBatch;
    assert.equal(out.length, 300);
    out.forEach((r, i) => assert.deepEqual(r, { output: 'x'.repeat(20000) + i }));
    assert.notEqual(own.pid, pid);
  } finally {
    own.close();
  }
});

test('a template that never finishes fails alone with a timeout; the others still answer', async () => {
  const own = new GoTemplateEngine({ timeoutMs: 1500 });
  try {
    const slow = renderGoTemplate('{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}', { a: 1 }, appset, own);
    const fast = renderGoTemplate('{{ .a }}', { a: 'after' }, appset, own);
    assert.match(await failure(slow), /timed out after 1500 ms/);
    assert.equal(await fast, 'after');
  } finally {
    own.close();
  }
});

test('no shell: the binary path and the templates are never interpreted by one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gotemplate-'));
  const odd = path.join(dir, 'a b;touch pwned');
  fs.mkdirSync(odd);
  fs.copyFileSync(process.env.SLUICE_GOTEMPLATE!, path.join(odd, 'helper'));
  fs.chmodSync(path.join(odd, 'helper'), 0o755);
  const own = new GoTemplateEngine({ binary: () => path.join(odd, 'helper') });
  try {
    assert.equal(await renderGoTemplate('$(touch {{.f}}) `id`', { f: path.join(dir, 'x') }, appset, own), `$(touch ${path.join(dir, 'x')}) \`id\``);
    assert.deepEqual(fs.readdirSync(dir), ['a b;touch pwned']);
  } finally {
    own.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing helper binary is a clear error, not a hang', async () => {
  const own = new GoTemplateEngine({ binary: () => '/nonexistent/sluice-gotemplate' });
  const message = await failure(renderGoTemplate('{{.a}}', { a: 1 }, appset, own));
  assert.match(message, /go template helper \/nonexistent\/sluice-gotemplate: .*ENOENT.*SLUICE_GOTEMPLATE/);
  own.close();
});
