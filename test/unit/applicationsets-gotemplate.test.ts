// A goTemplate ApplicationSet rendered by the real Go engine (the helper built into the
// tool cache), through the same wiring the generation activity uses.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { goTemplateEngine } from '../../activities/applicationsets';
import { renderGoTemplates } from '../../activities/templating/go-template';
import { generateApplications } from '../../domain/applicationsets/generate';
import { ensureGoTemplate } from '../../stack/toolchain';
import { appSet, fakeContext } from '../support/applicationsets';

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
});

const REPO = 'https://git.example.com/devops/ops-deploy';

test('goTemplate: path segments, normalize and sprig render as Argo does, per string field', async () => {
  const set = appSet({
    goTemplate: true,
    goTemplateOptions: ['missingkey=error'],
    generators: [{ git: { repoURL: REPO, revision: 'HEAD', directories: [{ path: 'apps/*' }] } }],
    template: {
      metadata: { name: '{{ .path.basename | normalize }}-{{ index .path.segments 0 }}' },
      spec: {
        project: 'default',
        source: { repoURL: REPO, path: '{{ .path.path }}' },
        destination: { server: 'https://kubernetes.default.svc', namespace: '{{ upper .path.basename | lower }}' },
      },
    },
  });
  const engine = goTemplateEngine(renderGoTemplates, set.spec.goTemplateOptions ?? []);
  const { applications } = await generateApplications(
    fakeContext(set, { repos: { [REPO]: { 'apps/Front_End/d.yaml': 'x', 'apps/backend/d.yaml': 'x' } } }, engine),
  );
  const byName = Object.fromEntries(applications.map((a) => [a.metadata.name, a]));
  assert.deepEqual(Object.keys(byName).sort(), ['backend-apps', 'front-end-apps']);
  assert.equal(byName['front-end-apps']!.spec.source?.path, 'apps/Front_End');
  assert.equal(byName['front-end-apps']!.spec.destination.namespace, 'front_end');
});

test('goTemplate with missingkey=error: a missing parameter fails the generation, naming it', async () => {
  const set = appSet({
    goTemplate: true,
    goTemplateOptions: ['missingkey=error'],
    generators: [{ list: { elements: [{ env: 'dev' }] } }],
    template: {
      metadata: { name: 'app-{{ .nope }}' },
      spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: 'x' } },
    },
  });
  const engine = goTemplateEngine(renderGoTemplates, set.spec.goTemplateOptions ?? []);
  await assert.rejects(generateApplications(fakeContext(set, {}, engine)), /map has no entry for key "nope"/);
});
