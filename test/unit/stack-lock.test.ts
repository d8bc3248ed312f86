// The pieces that keep a second `sluice up` from starting beside the first: the state
// directory's lock file and the port check.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeOwner, StackLock } from '../../stack/stack-lock';
import { stackPortsFromEnv, takenPorts, DEFAULT_STACK_PORTS } from '../../stack/ports';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-lock-'));

test('the first start takes the lock; a second one, while it lives, is told who holds it and where it serves', () => {
  const dir = tmp();
  const first = StackLock.acquire(dir);
  assert.ok(first.acquired);
  first.lock.ready({ apiUrl: 'http://127.0.0.1:8080', temporalUiUrl: 'http://127.0.0.1:8233', kubeconfig: '/k/kubeconfig' });
  const second = StackLock.acquire(dir);
  assert.equal(second.acquired, false);
  if (second.acquired) return;
  assert.equal(second.owner.pid, process.pid);
  const text = describeOwner(second.owner);
  assert.match(text, /already running/);
  for (const s of ['http://127.0.0.1:8080', 'http://127.0.0.1:8233', 'export KUBECONFIG=/k/kubeconfig']) assert.ok(text.includes(s), text);
  first.lock.release();
  assert.equal(fs.existsSync(StackLock.lockFile(dir)), false);
  assert.ok(StackLock.acquire(dir).acquired, 'free again once released');
});

test('a lock left by a process that is gone is taken over, and a recycled pid does not count as its owner', async () => {
  const dir = tmp();
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  fs.writeFileSync(StackLock.lockFile(dir), JSON.stringify({ pid, processStart: '1', startedAt: '', stateDir: dir, ready: true }));
  assert.ok(StackLock.acquire(dir).acquired, 'dead owner');

  const dir2 = tmp();
  // Our own pid, but another start time: a later process that got the dead owner's pid.
  fs.writeFileSync(StackLock.lockFile(dir2), JSON.stringify({ pid: process.pid, processStart: '1', startedAt: '', stateDir: dir2, ready: true }));
  assert.ok(StackLock.acquire(dir2).acquired, 'recycled pid');

  const dir3 = tmp();
  fs.writeFileSync(StackLock.lockFile(dir3), '{"pid": 12'); // torn write
  assert.ok(StackLock.acquire(dir3).acquired, 'unreadable file');
});

test('the port check names a taken port and who holds it', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const free = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const taken = await takenPorts('127.0.0.1', { Temporal: port, 'Sluice API': free });
    assert.equal(taken.length, 1);
    assert.equal(taken[0].purpose, 'Temporal');
    assert.equal(taken[0].port, port);
    if (fs.existsSync('/proc/net/tcp')) assert.match(taken[0].holder ?? '', new RegExp(`^pid ${process.pid} `));
  } finally {
    srv.close();
  }
});

test('ports come from the environment, else the well-known ones; garbage is refused by name', () => {
  assert.deepEqual(stackPortsFromEnv({}), DEFAULT_STACK_PORTS);
  assert.equal(stackPortsFromEnv({ SLUICE_TEMPORAL_PORT: '17233' }).temporal, 17233);
  assert.throws(() => stackPortsFromEnv({ SLUICE_ETCD_PORT: 'x' }), /SLUICE_ETCD_PORT=x is not a port number/);
});
