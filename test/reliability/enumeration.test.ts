// Timing and enumeration. A login with an unknown user and one with a wrong password take the same path
// (argon2 always runs), through the API and through SSH: their median times are compared with a generous
// tolerance (the machine is shared), and the answers are identical. An unknown device and a forbidden
// one get the same words and similar times over SSH. Each test starts with clean login counters and
// stays under the limiter's 30 attempts per address, which would otherwise answer early.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { ADMIN } from '../helpers/services.js';
import { startServer, PW, type Server } from '../api/helpers.js';
import { dbOf } from '../helpers/kysely.js';

let srv: Server;
before(async () => {
  srv = await startServer('sqlite');
  const s = srv.running.services;
  await s.admin.addGroup(ADMIN, 'device', 'vault', {});
  await s.admin.addDevice(ADMIN, { name: 'secret01', host: '127.0.0.1', protocols: 'ssh', group: 'vault', port: 22 });
  await s.admin.addAccount(ADMIN, 'secret01', 'root', { password: 'secret01-root-pw' });
});
after(async () => {
  await srv?.stop();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The smaller median must be at least 45 % of the larger: generous for a shared machine, yet a path that
 * skipped argon2 (a few ms against ~40 ms) fails it.
 */
function similar(what: string, a: number[], b: number[], ratio = 0.45) {
  const [ma, mb] = [median(a), median(b)];
  console.log(`# ${what}: medians ${ma.toFixed(1)} ms vs ${mb.toFixed(1)} ms (n=${a.length}+${b.length})`);
  assert.ok(Math.min(ma, mb) >= ratio * Math.max(ma, mb), `${what}: ${ma.toFixed(1)} vs ${mb.toFixed(1)} ms`);
}

test('API login: unknown user and wrong password — same answer, argon2 in both (similar medians)', async () => {
  const users = ['bob', 'carol', 'erin', 'frank', 'gina', 'hank', 'dave'];
  const unknown: number[] = [];
  const wrong: number[] = [];
  const answers = new Set<string>();
  const tryLogin = async (username: string, password: string) => {
    const t0 = performance.now();
    const r = await fetch(`${srv.base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const text = await r.text();
    const ms = performance.now() - t0;
    answers.add(`${r.status} ${text}`);
    return ms;
  };
  await tryLogin('warmup-nobody', 'x'); // the first argon2 call allocates its memory
  for (let i = 0; i < 14; i++) {
    unknown.push(await tryLogin(`nobody${i}`, 'Wrong-pass-123'));
    wrong.push(await tryLogin(users[i % users.length], 'Wrong-pass-123'));
  }
  assert.equal(answers.size, 1, `different answers: ${[...answers].join(' | ')}`);
  similar('API unknown user vs wrong password', unknown, wrong);
});

interface SshTry {
  ok: boolean;
  ms: number;
  out: string;
  code: number | null;
}

function sshTry(port: number, username: string, password: string, cmd: string | null): Promise<SshTry> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = new ssh2.Client();
    let out = '';
    let settled = false;
    const done = (ok: boolean, code: number | null = null) => {
      if (settled) return;
      settled = true;
      c.end();
      resolve({ ok, ms: performance.now() - t0, out, code });
    };
    c.on('error', () => done(false));
    c.on('ready', () => {
      if (!cmd) return done(true);
      c.exec(cmd, (err, ch) => {
        if (err) return done(false);
        ch.on('data', (d: Buffer) => (out += d));
        ch.stderr.on('data', (d: Buffer) => (out += d));
        ch.on('exit', (code: number | null) => setTimeout(() => done(true, code), 50));
        ch.on('close', () => done(true));
      });
    });
    c.connect({ host: '127.0.0.1', port, username, password, tryKeyboard: false, readyTimeout: 30_000 });
  });
}

const freshCounters = () =>
  dbOf(srv.running.services)
    .deleteFrom('login_attempts' as never)
    .execute();

test('SSH password login: unknown user and wrong password are refused alike, argon2 in both', async () => {
  await freshCounters();
  const port = srv.running.sshPort!;
  await sshTry(port, 'warmup@web01', 'x', null);
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 9; i++) {
    const u = await sshTry(port, `nobody${i}@web01`, 'Wrong-pass-123', null);
    const w = await sshTry(port, `${['bob', 'carol', 'erin'][i % 3]}@web01`, 'Wrong-pass-123', null);
    assert.equal(u.ok, false);
    assert.equal(w.ok, false);
    unknown.push(u.ms);
    wrong.push(w.ms);
  }
  similar('SSH unknown user vs wrong password', unknown, wrong);
});

test('SSH: an unknown device and a forbidden one get the same answer and similar times', async () => {
  await freshCounters();
  const port = srv.running.sshPort!;
  const unknown: SshTry[] = [];
  const forbidden: SshTry[] = [];
  for (let i = 0; i < 10; i++) {
    unknown.push(await sshTry(port, 'alice@nosuch01', PW, 'true'));
    forbidden.push(await sshTry(port, 'alice@secret01', PW, 'true'));
  }
  const norm = (t: SshTry) => `${t.ok} ${t.code} ${t.out.replace(/nosuch01|secret01/g, 'DEVICE').trim()}`;
  const answers = new Set([...unknown, ...forbidden].map(norm));
  console.log(`# SSH device answers: ${[...answers].map((a) => JSON.stringify(a)).join(' | ')}`);
  assert.equal(answers.size, 1);
  similar(
    'SSH unknown vs forbidden device',
    unknown.map((t) => t.ms),
    forbidden.map((t) => t.ms),
    0.3,
  );
});
