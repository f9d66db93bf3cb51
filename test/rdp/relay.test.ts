// The relay's backpressure with real loopback sockets: a side that stops reading stops the other side
// after at most RELAY_QUEUE_BYTES waiting in the gateway (plus one read), in both directions, and the
// bytes still arrive intact once it reads again; before the relay starts, each side is held to the queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { reader, relay, RELAY_QUEUE_BYTES } from '../../src/protocols/rdp/relay.js';

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
const accepted = (s: Server) => new Promise<Socket>((r) => s.once('connection', r));

/** client <-> [gateway side: `gwClient` and `upstream`, relayed] <-> device */
async function pair(o: { start?: boolean } = {}) {
  const gw = createServer();
  const dev = createServer();
  const gwPort = await listen(gw);
  const devPort = await listen(dev);
  const gotClient = accepted(gw);
  const client = connect(gwPort, '127.0.0.1');
  const gwClient = await gotClient;
  const gotDevice = accepted(dev);
  const fromDevice = reader();
  const upstream = connect({ port: devPort, host: '127.0.0.1', onread: fromDevice });
  const device = await gotDevice;
  const r = relay(gwClient, upstream, fromDevice);
  if (o.start !== false) r.start(Buffer.alloc(0));
  return {
    client,
    device,
    r,
    close: async () => {
      r.close('test over');
      client.destroy();
      device.destroy();
      await r.finished;
      gw.close();
      dev.close();
    },
  };
}

/** Writes `total` bytes of a counting pattern as fast as `sock` drains; resolves with what was accepted by `stallMs` after writing stalls. */
function writeUntilStalled(sock: Socket, total: number, stallMs: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let last = Date.now();
    const chunk = (n: number) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = (sent + i) & 0xff;
      return b;
    };
    const pump = () => {
      while (sent < total) {
        const n = Math.min(256 * 1024, total - sent);
        const ok = sock.write(chunk(n));
        sent += n;
        last = Date.now();
        if (!ok) return void sock.once('drain', pump);
      }
    };
    pump();
    const t = setInterval(() => {
      if (Date.now() - last >= stallMs || sent >= total) {
        clearInterval(t);
        resolve(sent);
      }
    }, 50);
  });
}

/** Reads until `total` bytes arrived, checking the counting pattern. */
function readAll(sock: Socket, total: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const onData = (b: Buffer) => {
      for (let i = 0; i < b.length; i++) if (b[i] !== ((seen + i) & 0xff)) return reject(new Error(`byte ${seen + i} corrupted`));
      seen += b.length;
      if (seen >= total) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
    sock.resume();
  });
}

for (const dir of ['client->device', 'device->client'] as const) {
  test(
    `${dir}: a reader that stops holds the writer back; at most the queue waits in the gateway; nothing lost`,
    { timeout: 60_000 },
    async () => {
      const p = await pair();
      try {
        const [from, to] = dir === 'client->device' ? [p.client, p.device] : [p.device, p.client];
        const held = () => (dir === 'client->device' ? p.r.queued().toDevice : p.r.queued().toClient);
        to.pause();
        const total = 256 * 1024 * 1024;
        const sent = await writeUntilStalled(from, total, 700);
        assert.ok(sent < total, 'the writer was never held back');
        // What the gateway itself holds for the stopped side: the queue plus one 64 KiB read.
        assert.ok(held() > 0, 'nothing waits in the gateway: the test did not stall the relay');
        assert.ok(held() <= RELAY_QUEUE_BYTES + 64 * 1024, `the gateway holds ${held()} bytes for the stopped reader`);
        // Everything accepted so far arrives intact once the reader reads again, and the writer can go on.
        await readAll(to, sent);
        assert.ok(sent < 64 * 1024 * 1024, `the writer got ${sent} bytes in before it stalled`);
      } finally {
        await p.close();
      }
    },
  );
}

for (const dir of ['client->device', 'device->client'] as const)
  test(`${dir}: 64 MiB arrive intact while the reader keeps stopping and buffers are reused`, { timeout: 60_000 }, async () => {
    const p = await pair();
    try {
      const [from, to] = dir === 'client->device' ? [p.client, p.device] : [p.device, p.client];
      const total = 64 * 1024 * 1024;
      const got = readAll(to, total);
      // Chunks wait in the gateway while later reads fill other buffers.
      const t = setInterval(() => (to.isPaused() ? to.resume() : to.pause()), 5);
      await writeUntilStalled(from, total, 5000);
      await got;
      clearInterval(t);
    } finally {
      await p.close();
    }
  });

for (const dir of ['client->device', 'device->client'] as const)
  test(`${dir}: before the relay starts, a side that floods is held back after a queue's worth`, { timeout: 60_000 }, async () => {
    const p = await pair({ start: false });
    try {
      const [from, to] = dir === 'client->device' ? [p.client, p.device] : [p.device, p.client];
      // While the session row is written nothing is forwarded: the gateway keeps at most the queue.
      const sent = await writeUntilStalled(from, 256 * 1024 * 1024, 700);
      assert.ok(sent < 64 * 1024 * 1024, `the flooding side got ${sent} bytes in before the relay started`);
      const got = readAll(to, sent);
      p.r.start(Buffer.alloc(0));
      await got;
    } finally {
      await p.close();
    }
  });

test('what the client sent while it was checked reaches the device first, in order', { timeout: 30_000 }, async () => {
  const gw = createServer();
  const dev = createServer();
  const gwPort = await listen(gw);
  const devPort = await listen(dev);
  const gotClient = accepted(gw);
  const client = connect(gwPort, '127.0.0.1');
  const gwClient = await gotClient;
  gwClient.pause();
  // Read by the accepted socket before the relay exists (as while the ticket is checked).
  const early = Buffer.alloc(200_000, 7);
  client.write(early);
  await new Promise((r) => setTimeout(r, 300));
  const gotDevice = accepted(dev);
  const fromDevice = reader();
  const upstream = connect({ port: devPort, host: '127.0.0.1', onread: fromDevice });
  const device = await gotDevice;
  const r = relay(gwClient, upstream, fromDevice);
  r.start(Buffer.from('first'));
  const late = Buffer.alloc(100_000, 9);
  client.write(late);
  const want = Buffer.concat([Buffer.from('first'), early, late]);
  const got = await new Promise<Buffer>((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    device.on('data', (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= want.length) resolve(Buffer.concat(parts));
    });
  });
  assert.ok(got.equals(want), 'the device got the bytes out of order or changed');
  // Closing the client ends the relay (its moved socket reports the close).
  client.destroy();
  assert.equal(await r.finished, 'client closed');
  device.destroy();
  gw.close();
  dev.close();
});

test('a client gone before the relay is made ends it at once (nothing to move)', { timeout: 30_000 }, async () => {
  const gw = createServer();
  const dev = createServer();
  const gwPort = await listen(gw);
  const devPort = await listen(dev);
  const gotClient = accepted(gw);
  const client = connect(gwPort, '127.0.0.1');
  const gwClient = await gotClient;
  gwClient.destroy();
  await new Promise((r) => gwClient.once('close', r));
  const fromDevice = reader();
  const upstream = connect({ port: devPort, host: '127.0.0.1', onread: fromDevice });
  const r = relay(gwClient, upstream, fromDevice);
  assert.equal(await r.finished, 'client closed');
  client.destroy();
  gw.close();
  dev.close();
});
