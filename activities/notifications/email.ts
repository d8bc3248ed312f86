// Argo's email service: `service.email[.<name>]: {host, port, from, username, password, html,
// insecure_skip_verify}`, recipients a comma-separated list of addresses. Subject from the
// template's `email.subject` (else `title`, as the older argocd-notifications read it), body
// from `email.body` (else `message`). Port 465 is SMTPS; otherwise STARTTLS whenever the server
// offers it, as Argo's SMTP client does, and required when credentials would go to a host that
// is not this machine, as Go's PLAIN auth refuses to send them in the clear.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { block, optionString, PermanentSendError, serviceKey, type NotificationService } from './service';

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * An SMTP failure as an error naming the service. A 5xx reply, refused credentials and a TLS
 * failure are permanent; a 4xx reply (greylisting, a full queue) and a lost connection are retried.
 * The server's reply is kept to its first line; the command (which may hold AUTH data) never is.
 */
function classify(label: string, err: unknown): Error {
  const e = (err ?? {}) as SmtpError & { message?: string };
  // Trust does not change between attempts: say so, and do not retry.
  if (/certificate|self[- ]signed|unable to verify/i.test(e.message ?? '')) {
    return new PermanentSendError(`${label}: the server's TLS certificate is not trusted (${(e.message ?? '').split('\n')[0]!.slice(0, 120)})`);
  }
  const reply = e.response ? `: ${e.response.split('\n')[0]!.slice(0, 200)}` : '';
  const what = e.responseCode ? `the server answered ${e.responseCode}${reply}` : `${e.code ?? 'sending failed'}${reply}`;
  const message = `${label}: ${what}`;
  const permanent =
    (e.responseCode !== undefined && e.responseCode >= 500) ||
    (e.responseCode === undefined && (e.code === 'EAUTH' || e.code === 'ETLS' || e.code === 'EENVELOPE' || e.code === 'EMESSAGE'));
  return permanent ? new PermanentSendError(message) : new Error(message);
}

export const email: NotificationService = {
  async send(notification, destination, config, ctx) {
    const label = serviceKey(config);
    const o = config.options;
    const host = optionString(o, 'host');
    const from = optionString(o, 'from');
    if (!host) throw new PermanentSendError(`${label}: no host`);
    if (!from) throw new PermanentSendError(`${label}: no from address`);
    const port = o.port === undefined ? 587 : Number(o.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new PermanentSendError(`${label}: port ${JSON.stringify(o.port)} is not a port`);
    const to = destination.recipient
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    if (to.length === 0) throw new PermanentSendError(`${label}: no recipient address`);
    const username = optionString(o, 'username');
    const password = optionString(o, 'password') ?? '';
    const insecure = o.insecure_skip_verify === true || o.insecureSkipVerify === true;
    const html = o.html === true || o.html === 'true';
    const e = block(notification, 'email');
    const subject = text(e.subject) || text(notification.title);
    const body = text(e.body) || text(notification.message);

    // Loaded on first use: axios and nodemailer cost ~11 MiB resident in a process that never measures or notifies.
    const transport = (await import('nodemailer')).createTransport({
      host,
      port,
      secure: port === 465,
      requireTLS: username !== undefined && !isLoopback(host),
      tls: { rejectUnauthorized: !insecure, ...(isIP(host) ? {} : { servername: host }) },
      ...(username !== undefined ? { auth: { user: username, pass: password } } : {}),
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
      logger: false,
      debug: false,
    });
    try {
      const info = await transport
        .sendMail({
          from,
          to,
          subject,
          ...(html ? { html: body } : { text: body }),
          // The same for every attempt: a receiving system that deduplicates on it sees one message.
          messageId: `<${createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 32)}@notifications.sluice>`,
          // The template's text is data: never let it make the mailer read a file or fetch a URL.
          disableFileAccess: true,
          disableUrlAccess: true,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        })
        .catch((err: unknown) => {
          throw classify(label, err);
        });
      // Some recipients accepted, others refused: a retry would send the accepted ones a copy.
      const rejected = ((info.rejected ?? []) as Array<string | { address: string }>).map((r) => (typeof r === 'string' ? r : r.address));
      if (rejected.length > 0) throw new PermanentSendError(`${label}: the server refused recipient ${rejected.join(', ')}`);
    } finally {
      transport.close();
    }
  },
};
