// Image Updater's `git.commit-message-template`, rendered by the real Go template engine:
// Image Updater's own default template gives exactly Sluice's default message, a custom one
// sees .AppName and .AppChanges (.Image, .OldTag, .NewTag, .Labels), and a template that
// fails gives Image Updater's fallback message and says why.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCommitMessage } from '../../activities/images/commit-message';
import { commitMessageData } from '../../domain/images/commit-message';
import { commitMessage, type ImageChange } from '../../domain/images/write-back';
import { ensureGoTemplate } from '../../stack/toolchain';

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
});

const changes: ImageChange[] = [
  { image: 'reg.example/team/web', from: '1.0.0', to: '1.0.1' },
  { image: 'reg.example/team/side', to: 'sha256:' + 'b'.repeat(64) },
];

// Image Updater's DefaultGitCommitMessage (pkg/common/constants.go), as its users copy it into the ConfigMap.
const IMAGE_UPDATER_DEFAULT = `build: automatic update of {{ .AppName }}

{{ range .AppChanges -}}
updates image {{ .Image }} tag '{{ .OldTag }}' to '{{ .NewTag }}'
{{ end -}}
`;

test("Image Updater's default template renders Sluice's default message byte for byte", async () => {
  assert.deepEqual(await renderCommitMessage(IMAGE_UPDATER_DEFAULT, 'web-prod', changes), { text: commitMessage('web-prod', changes) });
  assert.deepEqual(commitMessageData('web-prod', changes).AppChanges[1], {
    Image: 'reg.example/team/side',
    OldTag: '',
    NewTag: `sha256:${'b'.repeat(64)}`,
    Labels: {},
  });
});

test('a custom template: the app name, each change, and the labels map (empty: Sluice does not read image labels)', async () => {
  const template = `chore({{ .AppName }}): {{ len .AppChanges }} image(s)
{{ range .AppChanges }}
* {{ .Image }} {{ .OldTag | default "(none)" }} -> {{ .NewTag }}{{ if index .Labels "org.opencontainers.image.revision" }} rev{{ end }}{{ end }}
`;
  const { text, problem } = await renderCommitMessage(template, 'web-prod', changes);
  assert.equal(problem, undefined);
  assert.equal(text, `chore(web-prod): 2 image(s)\n\n* reg.example/team/web 1.0.0 -> 1.0.1\n* reg.example/team/side (none) -> sha256:${'b'.repeat(64)}\n`);
});

test("a template that does not parse or execute, or renders nothing: Image Updater's fallback message, and the cause", async () => {
  for (const [template, cause] of [
    ['{{ .AppName ', /commit message template: .*unclosed action|unexpected/],
    ['{{ .AppName.Nope.Deeper }}', /commit message template: .*can't evaluate field|nil pointer|Deeper/],
    ['{{/* nothing */}}', /rendered an empty message/],
  ] as const) {
    const r = await renderCommitMessage(template, 'web-prod', changes);
    assert.equal(r.text, 'build: update of application web-prod');
    assert.match(r.problem ?? '', cause, template);
  }
});
