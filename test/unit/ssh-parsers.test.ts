// Unit tests of the SSH proxy's pure parts: the target syntax and the SFTP packet scanner.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget, printable } from '../../src/protocols/ssh/target.js';
import { PacketScanner, SftpAudit } from '../../src/protocols/ssh/sftp-audit.js';
import { readLine } from '../../src/protocols/ssh/terminal.js';
import { EventEmitter } from 'node:events';
import type { ServerChannel } from 'ssh2';

/** Enough of a channel for readLine: data in, writes recorded. */
function fakeChannel() {
  const ch = Object.assign(new EventEmitter(), {
    written: '',
    write: (s: string) => ((ch.written += s), true),
    pause: () => {},
    resume: () => {},
  });
  return ch;
}

describe('reading a line on the PTY', () => {
  test('echo, backspace, Ctrl-U; arrow keys ignored; Enter ends; Ctrl-C gives null', async () => {
    const ch = fakeChannel();
    const p = readLine(ch as unknown as ServerChannel, 'Reason: ');
    ch.emit('data', Buffer.from('deplox\x7fy\x1b[A\x1b[D 42\r'));
    assert.equal(await p, 'deploy 42');
    assert.equal(ch.written, 'Reason: deplox\b \by 42\r\n');
    const q = readLine(ch as unknown as ServerChannel, '> ');
    ch.emit('data', Buffer.from('abc\x15x\x03'));
    assert.equal(await q, null);
  });
});

describe('target syntax', () => {
  test('user, user@device, user@account@device', () => {
    assert.deepEqual(parseTarget('alice'), { user: 'alice', device: null, account: null, error: null });
    assert.deepEqual(parseTarget('alice@web01'), { user: 'alice', device: 'web01', account: null, error: null });
    assert.deepEqual(parseTarget('alice@root@web01'), { user: 'alice', device: 'web01', account: 'root', error: null });
  });
  test('malformed names are errors that name the syntax', () => {
    for (const bad of ['alice@@', 'alice@', '@web01', 'alice@a@b@c', 'alice@we b', 'alice@-x', 'Alice@web01'])
      assert.ok(parseTarget(bad).error, `${bad} is an error`);
    assert.equal(parseTarget('alice@@').user, 'alice');
    const long = parseTarget('a'.repeat(10_000));
    assert.equal(long.user, null);
    assert.match(long.error!, /too long/);
  });
  test('printable strips control and bidi characters', () => {
    assert.equal(printable('ok\x1b[31m\u202e\x07!'), 'ok[31m!');
  });
});

/** Builds an SFTP packet: uint32 length, type, uint32 id, then fields. */
function packet(type: number, id: number, ...fields: (string | number | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    if (typeof f === 'number') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(f);
      parts.push(b);
    } else {
      const v = typeof f === 'string' ? Buffer.from(f) : f;
      const len = Buffer.alloc(4);
      len.writeUInt32BE(v.length);
      parts.push(len, v);
    }
  }
  const body = Buffer.concat([Buffer.from([type]), Buffer.alloc(4), ...parts]);
  body.writeUInt32BE(id, 1);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe('SFTP audit', () => {
  test('operations are reported with paths and results, whatever the chunking; bulk data is skipped', () => {
    const got: string[] = [];
    const a = new SftpAudit((op, result) =>
      got.push(`${op.action} ${op.path} ${op.details?.mode ?? op.details?.to ?? ''} ${result}`.replace(/ +/g, ' ')),
    );
    const fromClient = Buffer.concat([
      packet(3, 1, '/tmp/a', 0x1a, Buffer.alloc(4)), // OPEN write|creat|trunc, empty attrs
      packet(6, 2, Buffer.from('h1'), 0, 0, Buffer.alloc(40_000)), // WRITE: skipped
      packet(18, 3, '/tmp/a', '/tmp/b'),
      packet(200, 4, 'posix-rename@openssh.com', '/tmp/b', '/tmp/c'),
      packet(13, 5, '/tmp/c'),
      packet(10, 6, Buffer.from('h1'), Buffer.alloc(4)), // FSETSTAT on the open handle
    ]);
    const fromServer = Buffer.concat([
      packet(102, 1, Buffer.from('h1')),
      packet(101, 2, 0, '', ''),
      packet(101, 3, 0, '', ''),
      packet(101, 4, 0, '', ''),
      packet(101, 5, 2, 'no such file', ''),
      packet(101, 6, 3, 'denied', ''),
    ]);
    // Feed in awkward pieces: 1, 3, 7 and 5000 bytes at a time.
    const feed = (buf: Buffer, scanner: PacketScanner) => {
      let off = 0;
      let i = 0;
      while (off < buf.length) {
        const n = [1, 3, 7, 5000][i++ % 4];
        scanner.push(buf.subarray(off, off + n));
        off += n;
      }
    };
    feed(fromClient, a.fromClient);
    feed(fromServer, a.fromServer);
    assert.deepEqual(got, [
      'sftp.open /tmp/a write ok',
      'sftp.rename /tmp/a /tmp/b ok',
      'sftp.rename /tmp/b /tmp/c ok',
      'sftp.remove /tmp/c no such file',
      'sftp.setstat /tmp/a permission denied',
    ]);
  });

  test('unanswered operations are reported when the channel ends; a broken stream stops parsing', () => {
    const got: string[] = [];
    const a = new SftpAudit((op, result) => got.push(`${op.action} ${result}`));
    a.fromClient.push(packet(14, 9, '/tmp/d', Buffer.alloc(4)));
    a.flush();
    assert.deepEqual(got, ['sftp.mkdir unanswered']);
    const s = new PacketScanner(
      () => true,
      () => assert.fail('no packet from garbage'),
    );
    s.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 3, 1, 2, 3]));
    assert.equal(s.broken, true);
  });
});
