// SIEM export: audit records reach a file and a real syslog receiver (TCP with octet counting, and UDP);
// with the receiver down and up again, no record is lost and none is sent twice.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { FileSink, SiemExporter, SyslogSink } from '../../src/export/siem.js';

/** A syslog receiver speaking RFC 6587 octet counting over TCP. */
function tcpReceiver(port = 0): Promise<{ server: Server; port: number; messages: string[]; sockets: Set<Socket> }> {
  const messages: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buf.subarray(0, sp).toString());
        if (buf.length < sp + 1 + len) break;
        messages.push(buf.subarray(sp + 1, sp + 1 + len).toString());
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, messages, sockets })),
  );
}

const seqOf = (m: string) => Number(/seq="(\d+)"/.exec(m)![1]);

describe('SIEM export', () => {
  let t: TestEnv;
  before(async () => {
    t = await testServices('sqlite');
    await seedOrg(t.s);
  });
  after(async () => t?.cleanup());

  test('every audit record goes to a JSON-lines file, in order, once', async () => {
    const path = join(t.dir, 'siem', 'audit.jsonl');
    const ex = new SiemExporter(t.s.auditFeed, new FileSink(path), 7);
    const n = await ex.drain();
    const total = (await t.s.adminStore.listAudit({ limit: 100000 })).length;
    assert.equal(n, total);
    assert.equal(await ex.drain(), 0, 'nothing twice');
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, total);
    assert.deepEqual(
      lines.map((l) => l.seq),
      [...lines.map((l) => l.seq)].sort((a, b) => a - b),
    );
    assert.ok(lines.every((l) => typeof l.hash === 'string' && l.action));
  });

  test('syslog over TCP: receiver down, records wait; receiver up, all arrive exactly once', async () => {
    const rx = await tcpReceiver();
    const sink = new SyslogSink(new URL(`tcp://127.0.0.1:${rx.port}`));
    const ex = new SiemExporter(t.s.auditFeed, sink, 5);
    const first = await ex.drain();
    assert.ok(first > 0);
    for (let i = 0; i < 100 && rx.messages.length < first; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(rx.messages.length, first);
    assert.match(rx.messages[0], /^<85>1 \S+ \S+ gatehouse \d+ \S+ \[gatehouse@32473 seq="\d+"/, 'RFC 5424 header');
    // Collector goes away.
    for (const s of rx.sockets) s.destroy();
    await new Promise((r) => rx.server.close(r));
    await sink.close();
    const r = await t.s.approvals.request({
      username: 'alice',
      device: 'web01',
      protocol: 'ssh',
      channel: 'cli',
      reason: 'while syslog is down',
    });
    if (r.outcome !== 'allowed') await t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli' });
    assert.equal(await ex.drain(), 0, 'nothing sent while down');
    assert.ok(ex.lastError, 'the failure is visible');
    const pending = await ex.pending();
    assert.ok(pending >= 2);
    // Collector back on the same port.
    const rx2 = await tcpReceiver(rx.port);
    assert.equal(await ex.drain(), pending);
    for (let i = 0; i < 100 && rx2.messages.length < pending; i++) await new Promise((res) => setTimeout(res, 20));
    const seqs = [...rx.messages, ...rx2.messages].map(seqOf);
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
    const all = (await t.s.adminStore.listAudit({ limit: 100000 })).length;
    assert.equal(seqs.length, all, 'no loss');
    assert.ok(rx2.messages.some((m) => m.includes('approval.approve')));
    await sink.close();
    for (const s of rx2.sockets) s.destroy();
    await new Promise((res) => rx2.server.close(res));
  });

  test('syslog over UDP', async () => {
    const sock = createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    const ex = new SiemExporter(t.s.auditFeed, new SyslogSink(new URL(`udp://127.0.0.1:${port}`)));
    const n = await ex.drain();
    for (let i = 0; i < 100 && got.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, n);
    sock.close();
  });
});
