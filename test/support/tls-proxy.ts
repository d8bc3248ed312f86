// An mTLS front for the Temporal dev server, whose `start-dev` has no TLS options: a TLS
// server that demands a client certificate signed by its CA (and speaks h2 by ALPN, as
// gRPC requires), passing the bytes to the dev server's plain gRPC port. What Sluice's
// client and worker see is a Temporal endpoint that refuses a wrong certificate.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA with one server certificate for `serverName` and one client certificate, under `dir` (arguments, no shell). */
export async function makePki(dir: string, name: string, serverName: string): Promise<Pki> {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, `${name}-${n}`);
  const openssl = (args: string[]) => run('openssl', args);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`, '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  for (const [who, ext] of [
    ['server', `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    fs.writeFileSync(f(`${who}.ext`), ext);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name} ${who}`, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`)]);
    await openssl([
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${who}.ext`),
      '-out',
      f(`${who}.pem`),
    ]);
  }
  return { dir, caCert: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

export interface TlsProxy {
  address: string;
  /** TLS handshakes refused (a client certificate missing or not from the CA). */
  refusals: number;
  close(): Promise<void>;
}

export async function startMtlsProxy(pki: Pki, upstream: string): Promise<TlsProxy> {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const proxy: TlsProxy = { address: '', refusals: 0, close: async () => undefined };
  const server = tls.createServer(
    {
      key: fs.readFileSync(pki.serverKey),
      cert: fs.readFileSync(pki.serverCert),
      ca: fs.readFileSync(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const up = net.connect(port, host);
      sockets.add(socket).add(up);
      socket.pipe(up).pipe(socket);
      const end = () => {
        socket.destroy();
        up.destroy();
        sockets.delete(socket);
        sockets.delete(up);
      };
      socket.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    },
  );
  server.on('tlsClientError', () => proxy.refusals++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
