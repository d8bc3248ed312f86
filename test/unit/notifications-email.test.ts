// The email service against a real SMTP server (aiosmtpd) that requires STARTTLS and auth:
// the example's template rendered into subject and body, arriving once per send; refusals
// classified, and the password never in an error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotificationConfig } from '../../domain/notifications/config';
import { renderNotification } from '../../activities/notifications/render';
import { SERVICES } from '../../activities/notifications/services';
import { PermanentSendError } from '../../activities/notifications/service';
import { goTemplateEngine } from '../../activities/templating/go-template';
import { ensureGoTemplate } from '../../stack/toolchain';
import { SmtpServer } from '../support/smtp-server';

const PASSWORD = 's3cret-smtp-pw';
let smtp: SmtpServer;

before(async () => {
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate((l) => console.log(l));
  smtp = await SmtpServer.start('sluice', PASSWORD);
});
after(async () => {
  await smtp.stop();
  goTemplateEngine().close();
});

const app = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'frontend-app', namespace: 'argocd' },
  spec: { source: { repoURL: 'https://git.example.com/devops/ops-deploy.git' } },
  status: { sync: { status: 'Synced', revision: 'c0ffee' }, operationState: { phase: 'Succeeded', syncResult: { revision: 'c0ffee' } } },
};
const ctx = { idempotencyKey: 'uid-1/on-deployed[0]|flip:1|email:ops@example.com' };

function config(extra: string, secret: Record<string, string> = { 'email-password': PASSWORD }) {
  return parseNotificationConfig(
    {
      'service.email.gmail': `host: 127.0.0.1\nport: ${smtp.port}\nfrom: sluice@example.com\nusername: sluice\npassword: $email-password\ninsecure_skip_verify: true\n${extra}`,
      'template.app-deployed': [
        'message: Application {{.app.metadata.name}} is now running revision {{.app.status.sync.revision}}.',
        'email:',
        '  subject: Deployed {{.app.metadata.name}}',
      ].join('\n'),
      'template.legacy': 'title: Legacy {{.app.metadata.name}}\nmessage: Body of {{.app.metadata.name}}',
    },
    secret,
    false,
  );
}
const render = (cfg: ReturnType<typeof config>, template: string) =>
  renderNotification(cfg.templates, [template], { app, context: {}, secrets: {}, serviceType: 'email' });

test('email goes through STARTTLS and auth with the rendered subject and body, to every listed address', async () => {
  smtp.received.length = 0;
  const cfg = config('');
  await SERVICES.email.send(await render(cfg, 'app-deployed'), { service: 'gmail', recipient: 'ops@example.com, dev@example.com' }, cfg.services.gmail, ctx);
  const [mail] = await smtp.waitFor(1);
  assert.equal(mail.tls, true);
  assert.equal(mail.login, 'sluice');
  assert.equal(mail.from, 'sluice@example.com');
  assert.deepEqual(mail.to, ['ops@example.com', 'dev@example.com']);
  assert.match(mail.data, /^Subject: Deployed frontend-app\r?$/m);
  assert.match(mail.data, /Application frontend-app is now running revision c0ffee\./);
  assert.match(mail.data, /^Content-Type: text\/plain/m);
  // One Message-ID per firing and recipient, the same on a retry.
  const id = /^Message-ID: (.*?)\r?$/im.exec(mail.data)?.[1];
  assert.ok(id);
  await SERVICES.email.send(await render(cfg, 'app-deployed'), { service: 'gmail', recipient: 'ops@example.com' }, cfg.services.gmail, ctx);
  assert.equal(/^Message-ID: (.*?)\r?$/im.exec((await smtp.waitFor(2))[1].data)?.[1], id);
  assert.equal(smtp.received.length, 2);
});

test('email: html sends text/html; title and message serve as subject and body when the template has no email block', async () => {
  smtp.received.length = 0;
  const cfg = config('html: true');
  await SERVICES.email.send(await render(cfg, 'legacy'), { service: 'gmail', recipient: 'ops@example.com' }, cfg.services.gmail, ctx);
  await smtp.waitFor(1);
  assert.match(smtp.received[0].data, /^Subject: Legacy frontend-app\r?$/m);
  assert.match(smtp.received[0].data, /^Content-Type: text\/html/m);
  assert.match(smtp.received[0].data, /Body of frontend-app/);
});

test('email: refused credentials and a refused mailbox are permanent, name the service, and never show the password', async () => {
  smtp.received.length = 0;
  const wrong = config('', { 'email-password': 'not-the-password' });
  await assert.rejects(SERVICES.email.send({ message: 'x' }, { service: 'gmail', recipient: 'ops@example.com' }, wrong.services.gmail, ctx), (err: Error) => {
    assert.ok(err instanceof PermanentSendError, String(err));
    assert.match(err.message, /^service\.email\.gmail: the server answered 535/);
    assert.ok(!err.message.includes('not-the-password'));
    assert.ok(!err.message.includes(Buffer.from('not-the-password').toString('base64')));
    return true;
  });
  const cfg = config('');
  await assert.rejects(SERVICES.email.send({ message: 'x' }, { service: 'gmail', recipient: 'nobody@example.com' }, cfg.services.gmail, ctx), (err: Error) => {
    assert.ok(err instanceof PermanentSendError, String(err));
    assert.match(err.message, /service\.email\.gmail: .*550/);
    assert.ok(!err.message.includes(PASSWORD));
    return true;
  });
  // One refused among several: the others got it, and a retry would duplicate theirs.
  await assert.rejects(
    SERVICES.email.send({ message: 'x' }, { service: 'gmail', recipient: 'ops@example.com,nobody@example.com' }, cfg.services.gmail, ctx),
    (err: Error) => err instanceof PermanentSendError && /refused recipient nobody@example\.com/.test(err.message),
  );
  await smtp.waitFor(1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(smtp.received.length, 1);
  assert.deepEqual(smtp.received[0].to, ['ops@example.com']);
});

test('email: a certificate that is not trusted is refused unless insecure_skip_verify; a server that is not there is retried', async () => {
  const strict = parseNotificationConfig(
    { 'service.email': `host: 127.0.0.1\nport: ${smtp.port}\nfrom: sluice@example.com\nusername: sluice\npassword: $pw` },
    { pw: PASSWORD },
    false,
  );
  await assert.rejects(SERVICES.email.send({ message: 'x' }, { service: 'email', recipient: 'ops@example.com' }, strict.services.email, ctx), (err: Error) => {
    assert.ok(err instanceof PermanentSendError, String(err));
    assert.match(err.message, /^service\.email: the server's TLS certificate is not trusted/);
    return true;
  });
  const down = parseNotificationConfig({ 'service.email': 'host: 127.0.0.1\nport: 1\nfrom: sluice@example.com' }, {}, false);
  await assert.rejects(SERVICES.email.send({ message: 'x' }, { service: 'email', recipient: 'ops@example.com' }, down.services.email, ctx), (err: Error) => {
    assert.ok(!(err instanceof PermanentSendError), String(err));
    assert.match(err.message, /^service\.email: /);
    return true;
  });
  await assert.rejects(
    SERVICES.email.send({ message: 'x' }, { service: 'email', recipient: ' ' }, down.services.email, ctx),
    (err: Error) => err instanceof PermanentSendError && /no recipient/.test(err.message),
  );
});
