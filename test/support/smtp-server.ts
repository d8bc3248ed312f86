// A real SMTP server for the email service's tests: Debian's aiosmtpd (installed when absent),
// with STARTTLS required before AUTH and MAIL, LOGIN/PLAIN auth against one user, and a
// certificate made here by openssl. Each delivered message is printed as a JSON line.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackage } from '../../stack/toolchain';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The whole message as received: headers and body. */
  data: string;
  tls: boolean;
  login: string | null;
}

// Recipients at nobody@ are refused with 550, as a mail server refuses an unknown mailbox.
const SERVER = `
import asyncio, json, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
cert, key, port, user, password = sys.argv[1:6]
class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('nobody@'):
            return '550 5.1.1 mailbox unavailable'
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        login = getattr(session, 'sluice_login', None)
        print(json.dumps({'from': envelope.mail_from, 'to': envelope.rcpt_tos, 'data': envelope.content.decode('utf8', 'replace'), 'tls': session.ssl is not None, 'login': login}), flush=True)
        return '250 OK'
def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    if ok:
        session.sluice_login = user
    return AuthResult(success=ok, handled=False)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname='127.0.0.1', port=int(port), tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_required=True, auth_require_tls=True)
controller.start()
print('READY', flush=True)
sys.stdin.read()
controller.stop()
`;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

export class SmtpServer {
  readonly received: ReceivedMail[] = [];
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(user: string, password: string): Promise<SmtpServer> {
    await ensureDebianPackage('python3-aiosmtpd', '/usr/bin/aiosmtpd');
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-smtp-'));
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ]); // prettier-ignore
    const port = await freePort();
    // Debian's python3, where the package is, whatever python3 is first on PATH.
    const child = spawn('/usr/bin/python3', ['-c', SERVER, path.join(dir, 'cert.pem'), path.join(dir, 'key.pem'), String(port), user, password], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new SmtpServer(child, dir, port);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      const timer = setTimeout(() => reject(new Error(`aiosmtpd did not start: ${stderr}`)), 30_000);
      child.once('exit', (code) => reject(new Error(`aiosmtpd exited (${code}): ${stderr}`)));
      child.stdout!.on('data', (c: Buffer) => {
        buffer += c.toString();
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === 'READY') {
            clearTimeout(timer);
            resolve();
          } else if (line.startsWith('{')) server.received.push(JSON.parse(line) as ReceivedMail);
        }
      });
    });
    return server;
  }

  /** Waits until `n` messages have arrived (the server reports a message just after accepting it). */
  async waitFor(n: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    const until = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > until) throw new Error(`expected ${n} messages, got ${this.received.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.received;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
