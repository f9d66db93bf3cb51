// Hostile sizes: hundreds of MiB, generated as they are sent (never allocated), against every reader
// of the gateway: the HTTP proxy's own routes, the proxied path to a device (Node and nginx), the API
// and console, the email-link form, the SMTP listener, the SSH menu prompt and the RDP X.224 reader.
// Each answers its limit quickly and stops reading (the sender cannot push the rest), the gateway
// stays up and its memory does not balloon. Also: no proxy token for a host the user cannot reach.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { ImapFlow } from 'imapflow';
import { ImapPoller, PROCESSED_KEYWORD } from '../../src/notify/imap.js';
import { loadMailConfig } from '../../src/notify/config.js';
import { ReplyProcessor } from '../../src/notify/replies.js';
import { DOVECOT, startDovecot } from '../mail/dovecot.js';
import { missing } from '../helpers/peers.js';
import {
  ADMIN,
  NGINX_SKIP,
  consoleLogin,
  freePort,
  get,
  nodeUpstream,
  proxyCookie,
  startGw,
  startNginx,
  type Gw,
  type Nginx,
  type NodeUpstream,
} from '../http/helpers.js';
import { flood, MiB, peakRss, smtpFlood, type Flood } from './hostile-sizes-helpers.js';
import { dbOf } from '../helpers/kysely.js';

const BIG = 300 * MiB;
/** What a sender may get into the kernel's buffers before the gateway's close reaches it. */
const STOPPED_BELOW = 100 * MiB;
const QUICK_MS = 30_000;
/** RSS growth allowed while a flood runs (the busy machine's GC included). */
const RSS_SLACK = 200 * MiB;

let up: NodeUpstream;
let nginx: Nginx | null = null;
let gw: Gw;
let alice: string;
let smtpPort: number;

before(async () => {
  up = await nodeUpstream();
  if (!NGINX_SKIP) nginx = await startNginx();
  smtpPort = await freePort();
  gw = await startGw({ approval: false, nodePort: up.port, nginxPort: nginx?.port, env: { GATEHOUSE_SMTP_IN_PORT: String(smtpPort) } });
  const s = gw.s;
  await s.admin.addUser(ADMIN, { username: 'dave', email: 'dave@example.com', password: 'dave-S3cret-pass' });
  await s.admin.addGroup(ADMIN, 'user', 'dev', { managers: ['bob'], requireApproval: true, requireReason: false });
  await s.admin.addMember(ADMIN, 'dev', 'dave');
  await s.admin.grantAccess(ADMIN, 'dev', 'web', 'http');
  await s.admin.addGroup(ADMIN, 'device', 'linux', {});
  for (const d of ['box1', 'box2']) {
    await s.admin.addDevice(ADMIN, { name: d, host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: 1 });
    await s.admin.addAccount(ADMIN, d, 'root', { password: 'unused-pw' });
  }
  await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
  await s.admin.grantAccess(ADMIN, 'dev', 'linux', 'ssh');
  alice = await proxyCookie(gw, 'alice', 'app');
});
after(async () => {
  await gw?.stop();
  await nginx?.stop();
  await up?.close();
});

const proxyHead = (method: string, path: string, headers: string[] = []) => [
  `${method} ${path} HTTP/1.1`,
  `Host: ${gw.host('app')}`,
  ...headers,
];
const webPort = () => Number(new URL(gw.web).port);

/** The gateway still answers a plain request on both HTTP ports. */
async function stillUp(): Promise<void> {
  const r = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie: alice } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello from upstream');
  assert.equal((await fetch(`${gw.web}/healthz`)).status, 200);
}

function refused(f: Flood, status: number | number[], what: string): void {
  console.log(`${what}: ${f.status} after ${(f.sent / MiB).toFixed(1)} MiB sent, ${f.ms} ms, RSS +${(f.rssGrowth / MiB).toFixed(0)} MiB`);
  assert.ok(([] as (number | null)[]).concat(status).includes(f.status), `${what}: answered ${f.status} (${f.response.slice(0, 120)})`);
  assert.ok(f.sent < STOPPED_BELOW, `${what}: the gateway kept reading (${(f.sent / MiB).toFixed(0)} MiB sent)`);
  assert.ok(f.ms < QUICK_MS, `${what}: took ${f.ms} ms`);
  assert.ok(f.rssGrowth < RSS_SLACK, `${what}: RSS grew ${(f.rssGrowth / MiB).toFixed(0)} MiB`);
}

describe('HTTP proxy', () => {
  test('the review: 600 MiB chunked to /.gatehouse/again gets 413, the gateway stays up', async () => {
    const f = await flood(
      gw.proxyPort,
      proxyHead('POST', '/.gatehouse/again', [`Cookie: ${alice}`, 'Content-Type: application/x-www-form-urlencoded']),
      600 * MiB,
      'chunked',
    );
    refused(f, 413, 'again, chunked');
    await stillUp();
  });

  for (const path of ['/.gatehouse/again', '/.gatehouse/request', '/.gatehouse/cancel', '/.gatehouse/nosuch']) {
    for (const framing of ['chunked', 'length'] as const) {
      test(`POST ${path}, ${framing}: 413 without reading the rest`, async () => {
        const f = await flood(gw.proxyPort, proxyHead('POST', path, [`Cookie: ${alice}`]), BIG, framing);
        refused(f, 413, `${path} ${framing}`);
      });
    }
  }

  test('answers that never read the body close the connection: no cookie, GET with a body, unknown host', async () => {
    refused(await flood(gw.proxyPort, proxyHead('POST', '/.gatehouse/again'), BIG, 'chunked'), 401, 'no cookie');
    refused(await flood(gw.proxyPort, proxyHead('GET', '/.gatehouse/auth?token=x'), BIG, 'length'), 403, 'token swap with a body');
    refused(await flood(gw.proxyPort, [`POST / HTTP/1.1`, `Host: example.com`], BIG, 'chunked'), 404, 'not a device host');
    refused(
      await flood(gw.proxyPort, proxyHead('PUT', '/.gatehouse/events', [`Cookie: ${alice}`]), BIG, 'length'),
      405,
      'events with a body',
    );
    await stillUp();
  });

  test('an upload to a device streams through: 300 MiB reach it, the gateway does not buffer it', async () => {
    for (const framing of ['chunked', 'length'] as const) {
      const f = await flood(gw.proxyPort, proxyHead('POST', '/post', [`Cookie: ${alice}`]), BIG, framing, 120_000);
      assert.equal(f.status, 200, f.response.slice(0, 200));
      assert.match(f.response, new RegExp(`got ${BIG}`));
      assert.ok(f.rssGrowth < RSS_SLACK, `RSS grew ${(f.rssGrowth / MiB).toFixed(0)} MiB`);
      console.log(`upload ${framing}: ${(BIG / MiB).toFixed(0)} MiB through in ${f.ms} ms, RSS +${(f.rssGrowth / MiB).toFixed(0)} MiB`);
    }
    await stillUp();
  });

  test(
    'a device that refuses the upload early (nginx): the gateway passes its answer on and stops reading',
    { skip: NGINX_SKIP },
    async () => {
      const cookie = await proxyCookie(gw, 'alice', 'static');
      for (const framing of ['chunked', 'length'] as const) {
        const f = await flood(gw.proxyPort, [`POST /index.html HTTP/1.1`, `Host: ${gw.host('static')}`, `Cookie: ${cookie}`], BIG, framing);
        refused(f, [405, 413], `nginx ${framing}`);
      }
      await stillUp();
    },
  );
});

describe('console and API', () => {
  test('JSON POST routes (signed in or not) and the email-link form get 413 and the connection closes', async () => {
    const c = await consoleLogin(gw, 'alice');
    const json = ['Content-Type: application/json'];
    const cases: [string, string[], number][] = [
      ['/api/v1/session', json, 413],
      ['/api/v1/approvals', [...json, `Cookie: ${c.cookie}`, `X-CSRF-Token: ${c.csrf}`], 413],
      ['/api/v1/approvals', json, 401],
      ['/email/approval/no-such-token', ['Content-Type: application/x-www-form-urlencoded'], 413],
    ];
    for (const [path, headers, status] of cases) {
      for (const framing of ['chunked', 'length'] as const) {
        const f = await flood(webPort(), [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${webPort()}`, ...headers], BIG, framing);
        refused(f, status, `${path} ${framing}`);
      }
    }
    refused(await flood(webPort(), [`GET /healthz HTTP/1.1`, `Host: 127.0.0.1`], BIG, 'chunked'), 200, 'GET with a body');
    await stillUp();
  });
});

describe('token for the proxy', () => {
  const handOff = async (user: 'carol' | 'alice', host: string, pw?: string) => {
    const c = pw
      ? await fetch(`${gw.web}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: user, password: pw }),
        }).then((r) => r.headers.get('set-cookie')!.split(';')[0])
      : (await consoleLogin(gw, user)).cookie;
    const r = await fetch(`${gw.web}/api/v1/http-proxy/login?host=${host}&return=%2F`, { headers: { cookie: c }, redirect: 'manual' });
    const headers = [...r.headers.entries()].filter(([k]) => k !== 'date');
    return { status: r.status, headers, body: await r.text() };
  };

  test('a host the user cannot reach gets the same answer as an unknown one, and no token', async () => {
    const unknown = await handOff('carol', 'nosuchdevice');
    const forbidden = await handOff('carol', 'secret');
    const notHttp = await handOff('alice', 'box1');
    assert.equal(unknown.status, 404);
    assert.deepEqual(forbidden, unknown, 'byte-identical');
    assert.deepEqual(notHttp, unknown, 'a device without http: identical too');
    assert.ok(!unknown.headers.some(([k]) => k === 'location'));
    assert.doesNotMatch(unknown.body, /token/);
    // Reachable hosts still get their token, including one that needs approval (the waiting page).
    assert.equal((await handOff('alice', 'app')).status, 303);
    const dave = await handOff('carol', 'app', undefined);
    assert.equal(dave.status, 404, 'carol has no rule for app');
    const r = await fetch(`${gw.web}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dave', password: 'dave-S3cret-pass' }),
    });
    const daveCookie = r.headers.get('set-cookie')!.split(';')[0];
    const h = await fetch(`${gw.web}/api/v1/http-proxy/login?host=app&return=%2F`, { headers: { cookie: daveCookie }, redirect: 'manual' });
    assert.equal(h.status, 303, 'a device that needs approval: token, so the waiting page can be reached');
    assert.match(String(h.headers.get('location')), /\/\.gatehouse\/auth\?token=/);
  });
});

describe('SMTP listener', () => {
  test('a 300 MiB message gets 552 and the connection is closed, the listener goes on', async () => {
    const before = peakRss();
    const f = await smtpFlood(smtpPort, BIG);
    assert.match(f.response, /552/, f.response);
    assert.ok(f.sent < STOPPED_BELOW, `kept reading: ${(f.sent / MiB).toFixed(0)} MiB`);
    assert.ok(f.ms < QUICK_MS, `took ${f.ms} ms`);
    assert.ok(before.stop() < RSS_SLACK);
    const again = await smtpFlood(smtpPort, 1024);
    assert.match(again.response.trim().split('\r\n').pop() ?? '', /^250 /, 'a small message is still taken');
  });
});

test('SMTP: recipients past 100 in one envelope get 452', async () => {
  const codes = await new Promise<string[]>((resolve) => {
    const sock = connect(smtpPort, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => sock.destroy(), 30_000);
    sock.once('data', () => {
      const rcpts = Array.from({ length: 150 }, (_, i) => `RCPT TO:<r${i}@gh.test>\r\n`).join('');
      sock.write(`EHLO sender.test\r\nMAIL FROM:<a@sender.test>\r\n${rcpts}QUIT\r\n`);
      sock.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    });
    sock.on('close', () => {
      clearTimeout(t);
      resolve(
        buf
          .split('\r\n')
          .filter((l) => /^\d{3} /.test(l))
          .map((l) => l.slice(0, 3)),
      );
    });
    sock.on('error', () => {});
  });
  // EHLO, MAIL FROM, 150 RCPT, QUIT.
  const rcpt = codes.slice(2, 152);
  assert.equal(rcpt.filter((c) => c === '250').length, 100, codes.join(' '));
  assert.equal(rcpt.filter((c) => c === '452').length, 50);
});

describe('IMAP poller', { skip: missing('dovecot', DOVECOT, 'apt-get install dovecot-imapd; runs as root') }, () => {
  test('a 300 MiB message in the mailbox is skipped without download and marked; a small one is processed', async () => {
    const dc = await startDovecot();
    const box = new ImapFlow({ host: '127.0.0.1', port: dc.port, secure: false, auth: { user: dc.user, pass: dc.pass }, logger: false });
    box.on('error', () => {});
    let poller: ImapPoller | null = null;
    try {
      await box.connect();
      await box.mailboxOpen('INBOX');
      // Dropped into the Maildir as a sparse file: 300 MiB to Dovecot, no disk and no memory here.
      const name = `${Date.now()}.M1P1.gh-big,S=${BIG}`;
      const file = join(dc.maildir, 'new', name);
      writeFileSync(file, 'From: someone@gh.test\r\nSubject: big\r\n\r\n');
      truncateSync(file, BIG);
      chownSync(file, 65534, 65534);
      await box.append('INBOX', 'From: someone@gh.test\r\nSubject: small\r\n\r\nhello\r\n');
      assert.equal(readdirSync(join(dc.maildir, 'new')).length + readdirSync(join(dc.maildir, 'cur')).length, 2);
      const env = { GATEHOUSE_IMAP_URL: `imap://${dc.user}:${dc.pass}@127.0.0.1:${dc.port}/INBOX` };
      const cfg = await loadMailConfig(gw.s, env);
      poller = new ImapPoller(gw.s, cfg.imap!, new ReplyProcessor(gw.s, cfg, () => {}));
      const rss = peakRss();
      const t0 = Date.now();
      await poller.pass();
      const grew = rss.stop();
      console.log(`imap: 300 MiB message skipped in ${Date.now() - t0} ms, RSS +${(grew / MiB).toFixed(0)} MiB`);
      assert.equal(poller.tooLarge, 1);
      assert.equal(poller.processed, 1);
      assert.ok(grew < RSS_SLACK, `RSS grew ${(grew / MiB).toFixed(0)} MiB`);
      const flags: string[][] = [];
      // Only the answers for uids: imapflow also yields the server's unsolicited flag updates.
      for await (const m of box.fetch('1:*', { flags: true, size: true, uid: true }))
        if (m.uid) flags.push([String(m.size), ...(m.flags ?? [])]);
      assert.equal(flags.length, 2, JSON.stringify(flags));
      for (const f of flags) assert.ok(f.includes(PROCESSED_KEYWORD), `every message is marked: ${JSON.stringify(flags)}`);
    } finally {
      await poller?.close();
      await box.logout().catch(() => {});
      await dc.stop();
    }
  });
});

describe('recordings', () => {
  test('a recording that inflates to 600 MiB streams to the console without being held in memory', async () => {
    const s = gw.s;
    const dir = s.config.recordingsDir;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'hostile-big.cast.gz');
    // Highly compressible output, as `yes` in a session would record: a few MiB on disk.
    const line = Buffer.from(`[1.0, "o", "${'y\\r\\n'.repeat(2000)}"]\n`);
    await new Promise<void>((resolve, reject) => {
      const gz = createGzip();
      const out = createWriteStream(file);
      gz.pipe(out).on('finish', resolve).on('error', reject);
      gz.write('{"version": 2, "width": 80, "height": 24}\n');
      let n = 0;
      const pump = () => {
        while (n < 600 * MiB) {
          n += line.length;
          if (!gz.write(line)) return void gz.once('drain', pump);
        }
        gz.end('[1.0, "o", "partial');
      };
      pump();
    });
    const p = await s.policy.current();
    const alice = p.usersByName.get('alice')!;
    const app = [...p.devicesById.values()].find((d) => d.name === 'app')!;
    const account = p.accountsOfDevice.get(app.id)![0];
    const row = await dbOf(s)
      .insertInto('sessions')
      .values({
        user_id: alice.id,
        device_id: app.id,
        account_id: account.id,
        protocol: 'http',
        node_id: 'test',
        started_at: Date.now(),
        ended_at: Date.now(),
        recording: 'hostile-big.cast.gz',
      } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    const admin = await fetch(`${gw.web}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-pass-123' }),
    });
    const cookie = admin.headers.get('set-cookie')!.split(';')[0];
    const rss = peakRss();
    const t0 = Date.now();
    const r = await fetch(`${gw.web}/api/v1/sessions/${(row as { id: number }).id}/recording`, { headers: { cookie } });
    assert.equal(r.status, 200);
    let bytes = 0;
    let last = 0;
    for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += c.length;
      last = c[c.length - 1];
    }
    const grew = rss.stop();
    console.log(
      `recording: ${(statSync(file).size / MiB).toFixed(1)} MiB on disk, ${(bytes / MiB).toFixed(0)} MiB streamed in ${Date.now() - t0} ms, RSS +${(grew / MiB).toFixed(0)} MiB`,
    );
    assert.ok(bytes > 600 * MiB, `streamed ${bytes}`);
    assert.equal(last, 0x0a, 'the partial last line is dropped');
    assert.ok(grew < RSS_SLACK, `RSS grew ${(grew / MiB).toFixed(0)} MiB`);
    rmSync(file, { force: true });
    await stillUp();
  });
});

/** A PTY shell as `username`; once `ready` shows, BIG bytes are typed. Whether the channel closed, and what was sent. */
async function sshFlood(
  username: string,
  password: string,
  ready: RegExp,
): Promise<{ sent: number; closed: boolean; ms: number; rssGrowth: number }> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve()).once('error', reject);
    client.connect({ host: '127.0.0.1', port: gw.g.sshPort!, username, password, readyTimeout: 20_000 });
  });
  const rss = peakRss();
  const t0 = Date.now();
  try {
    const r = await new Promise<{ sent: number; closed: boolean }>((resolve, reject) => {
      client.shell({ term: 'xterm', rows: 24, cols: 80 }, (err, ch) => {
        if (err) return reject(err);
        let out = '';
        let sent = 0;
        let started = false;
        let finished = false;
        const chunk = Buffer.alloc(32 * 1024, 0x61);
        const end = (closed: boolean) => {
          if (finished) return;
          finished = true;
          resolve({ sent, closed });
        };
        const pump = () => {
          while (!finished && sent < BIG) {
            sent += chunk.length;
            if (!ch.write(chunk)) return void ch.once('drain', pump);
          }
          end(false);
        };
        ch.on('data', (d: Buffer) => {
          out += d.toString();
          if (!started && ready.test(out)) {
            started = true;
            pump();
          }
        });
        ch.on('close', () => end(true));
        setTimeout(() => end(false), 60_000).unref();
      });
    });
    return { ...r, ms: Date.now() - t0, rssGrowth: rss.stop() };
  } finally {
    client.end();
  }
}

describe('SSH', () => {
  test('a line flood at the menu prompt ends the channel, not the gateway', async () => {
    const f = await sshFlood('alice', 'alice-S3cret-pass', /Number or name/);
    console.log(`ssh menu: closed=${f.closed} after ${(f.sent / MiB).toFixed(1)} MiB, ${f.ms} ms`);
    assert.ok(f.closed, 'the channel was closed');
    assert.ok(f.sent < STOPPED_BELOW, `kept reading: ${(f.sent / MiB).toFixed(1)} MiB`);
    assert.ok(f.ms < QUICK_MS);
    assert.ok(f.rssGrowth < RSS_SLACK);
    await stillUp();
  });

  test('a flood while waiting for approval closes the channel; the request waits on', async () => {
    const f = await sshFlood('dave@box1', 'dave-S3cret-pass', /needs approval/);
    console.log(`ssh wait: closed=${f.closed} after ${(f.sent / MiB).toFixed(1)} MiB, ${f.ms} ms`);
    assert.ok(f.closed, 'the channel was closed');
    assert.ok(f.sent < STOPPED_BELOW, `kept reading: ${(f.sent / MiB).toFixed(1)} MiB`);
    assert.ok(f.ms < QUICK_MS);
    const dave = (await gw.s.policy.current()).usersByName.get('dave')!;
    const waiting = await dbOf(gw.s)
      .selectFrom('approval_requests')
      .select('id')
      .where('requester_id', '=', dave.id)
      .where('status', '=', 'waiting')
      .execute();
    assert.equal(waiting.length, 1, 'the request still waits');
    await stillUp();
  });
});

describe('RDP X.224', () => {
  test('300 MiB after a TPKT header: dropped at once, the gateway stays up', async () => {
    const port = gw.g.rdpPort!;
    for (const len of [2048, 0xffff]) {
      const head = Buffer.from([3, 0, len >> 8, len & 0xff]);
      const t0 = Date.now();
      const rss = peakRss();
      const sent = await new Promise<number>((resolve) => {
        const s = connect(port, '127.0.0.1');
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        let n = 0;
        let done = false;
        const end = () => {
          if (done) return;
          done = true;
          s.destroy();
          resolve(n);
        };
        const pump = () => {
          while (!done && n < BIG) {
            n += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
          end();
        };
        s.on('connect', () => {
          s.write(head);
          pump();
        });
        s.on('error', end).on('close', end);
        setTimeout(end, 60_000).unref();
      });
      assert.ok(sent < STOPPED_BELOW, `TPKT length ${len}: kept reading ${(sent / MiB).toFixed(1)} MiB`);
      assert.ok(Date.now() - t0 < QUICK_MS);
      assert.ok(rss.stop() < RSS_SLACK);
    }
    await stillUp();
  });
});

describe('process', () => {
  test("a throw inside one proxy request's handling answers 500 to it; the gateway goes on", async () => {
    const policy = gw.s.policy as { peek: () => unknown };
    const real = policy.peek;
    policy.peek = () => {
      policy.peek = real;
      throw new Error('thrown inside the request handler (test)');
    };
    try {
      const r = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie: alice } });
      assert.equal(r.status, 500);
    } finally {
      policy.peek = real;
    }
    await stillUp();
  });

  test('an exception that escapes every handler is logged as fatal and the process exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-fatal-'));
    try {
      const entry = fileURLToPath(new URL('./fatal-entry.ts', import.meta.url));
      const env = {
        ...process.env,
        GATEHOUSE_DATA_DIR: dir,
        GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
        GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
        GATEHOUSE_WEB_PORT: '0',
        GATEHOUSE_SSH_PORT: '0',
        GATEHOUSE_HTTP_PROXY_PORT: '0',
        GATEHOUSE_RDP_PORT: '0',
        GATEHOUSE_POSTGRES_PORT: '0',
        GATEHOUSE_MYSQL_PORT: '0',
        GATEHOUSE_LOG_LEVEL: 'info',
      };
      const proc = spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (d) => (out += d));
      proc.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
      const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      clearTimeout(timer);
      assert.equal(code, 1, out.slice(-2000));
      const fatal = out.split('\n').find((l) => l.includes('uncaught exception'));
      assert.ok(fatal, `no fatal log line:\n${out.slice(-2000)}`);
      assert.match(fatal, /"level":60/);
      assert.match(fatal, /thrown outside every handler/);
      assert.match(out, /gatehouse stopped/, 'the orderly stop ran first');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
