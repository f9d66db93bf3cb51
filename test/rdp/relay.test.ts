// The relay's backpressure with real loopback sockets: a side that stops reading stops the other side
// after at most RELAY_QUEUE_BYTES waiting in the gateway (plus one read), in both directions, and the
// bytes still arrive intact once it reads again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { deviceReader, relay, RELAY_QUEUE_BYTES } from '../../src/protocols/rdp/relay.js';

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
const accepted = (s: Server) => new Promise<Socket>((r) => s.once('connection', r));

/** client <-> [gateway side: `gwClient` and `upstream`, relayed] <-> device */
async function pair() {
  const gw = createServer();
  const dev = createServer();
  const gwPort = await listen(gw);
  const devPort = await listen(dev);
  const gotClient = accepted(gw);
  const client = connect(gwPort, '127.0.0.1');
  const gwClient = await gotClient;
  const gotDevice = accepted(dev);
  const reader = deviceReader();
  const upstream = connect({ port: devPort, host: '127.0.0.1', onread: reader });
  const device = await gotDevice;
  const r = relay(gwClient, upstream, reader);
  r.start(Buffer.alloc(0));
  return {
    client,
    device,
    gwClient,
    upstream,
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
        const [from, to, gwOut] = dir === 'client->device' ? [p.client, p.device, p.upstream] : [p.device, p.client, p.gwClient];
        to.pause();
        const total = 256 * 1024 * 1024;
        const sent = await writeUntilStalled(from, total, 700);
        assert.ok(sent < total, 'the writer was never held back');
        // What the gateway itself holds for the stopped side: the queue plus one read (a 1 MiB slab or a 64 KiB chunk).
        assert.ok(
          gwOut.writableLength <= RELAY_QUEUE_BYTES + (1 << 20),
          `the gateway holds ${gwOut.writableLength} bytes for the stopped reader`,
        );
        // Everything accepted so far arrives intact once the reader reads again, and the writer can go on.
        await readAll(to, sent);
        assert.ok(sent < 64 * 1024 * 1024, `the writer got ${sent} bytes in before it stalled`);
      } finally {
        await p.close();
      }
    },
  );
}

test('device->client: 64 MiB arrive intact while the reader reuses its slabs', { timeout: 60_000 }, async () => {
  const p = await pair();
  try {
    const total = 64 * 1024 * 1024;
    const got = readAll(p.client, total);
    // A reader that keeps stopping: chunks wait in the gateway while later reads fill other slabs.
    const t = setInterval(() => (p.client.isPaused() ? p.client.resume() : p.client.pause()), 5);
    await writeUntilStalled(p.device, total, 5000);
    await got;
    clearInterval(t);
  } finally {
    await p.close();
  }
});
