// Real peers for RDP: Debian's xrdp (0.9.21) in the foreground on 127.0.0.1 with its own ini, a
// self-signed certificate and a log in a temp dir; xfreerdp under Xvfb. Used by the real end-to-end
// test and bench/rdp.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary } from './peers.js';
import { freePort } from './net.js';

export const HAVE_XRDP = hasBinary('xrdp') && existsSync('/etc/xrdp/xrdp.ini') && hasBinary('openssl');
export const HAVE_XFREERDP = hasBinary('xfreerdp') && hasBinary('xvfb-run') && hasBinary('xauth') && hasBinary('import');
/** What xrdp 0.9.21 logs (at DEBUG) once the login screen is drawn. */
export const LOGIN_MARK = 'draw login window';

export { freePort };

export interface Xrdp {
  port: number;
  dir: string;
  log(): string;
  /** How many times the login screen has been drawn so far. */
  logins(): number;
  stop(): Promise<void>;
}

export async function startXrdp(): Promise<Xrdp> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-xrdp-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const logFile = join(dir, 'xrdp.log');
  // Debian's ini, with our port (0.9.21 has no address= key), TLS, our cert and a private log.
  const ini = readFileSync('/etc/xrdp/xrdp.ini', 'utf8')
    .replace(/^port=.*$/m, `port=tcp://127.0.0.1:${port}`)
    .replace(/^fork=.*$/m, 'fork=true')
    .replace(/^security_layer=.*$/m, 'security_layer=tls')
    .replace(/^certificate=.*$/m, `certificate=${join(dir, 'cert.pem')}`)
    .replace(/^key_file=.*$/m, `key_file=${join(dir, 'key.pem')}`)
    .replace(/^LogFile=.*$/m, `LogFile=${logFile}`)
    .replace(/^LogLevel=.*$/m, 'LogLevel=DEBUG')
    .replace(/^EnableSyslog=.*$/m, 'EnableSyslog=false');
  writeFileSync(join(dir, 'xrdp.ini'), ini);
  const child: ChildProcess = spawn('xrdp', ['--nodaemon', '--config', join(dir, 'xrdp.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  // Ready when the port accepts.
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`xrdp exited at start: ${out}${log()}`);
    const ok = await new Promise<boolean>((r) => {
      const s = createServer();
      s.once('error', () => r(true));
      s.listen(port, '127.0.0.1', () => s.close(() => r(false)));
    });
    if (ok) break;
    if (Date.now() > end) throw new Error(`xrdp did not listen on ${port}: ${out}${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    dir,
    log,
    logins: () => log().split(LOGIN_MARK).length - 1,
    async stop() {
      // xrdp forks a child per connection: end the whole process group we started.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface FreeRdpRun {
  code: number | null;
  /** ms from start until xrdp logged the login screen (null when it never did). */
  loginMs: number | null;
  output: string;
}

/**
 * xfreerdp (no /u, /p: xrdp would try sesman) under Xvfb, with timeout inside xvfb-run so Xvfb never
 * outlives it. Waits for the next login screen in xrdp's log, optionally takes a screenshot of the
 * display, then ends the client.
 */
export function runXfreerdp(o: { port: number; ticket?: string; xrdp: Xrdp; screenshot?: string; timeoutS?: number }): Promise<FreeRdpRun> {
  const before = o.xrdp.logins();
  const dir = mkdtempSync(join(tmpdir(), 'gh-xfreerdp-'));
  const go = join(dir, 'go');
  const args = [
    `/v:127.0.0.1:${o.port}`,
    ...(o.ticket ? [`/load-balance-info:${o.ticket}`] : []),
    '/cert:ignore',
    '/sec:tls',
    '/size:1024x768',
  ];
  // The shell waits for the test to say "login screen is up" (file go), takes the screenshot, ends xfreerdp.
  const script = [
    'xfreerdp "$@" >"$GH_DIR/xf.log" 2>&1 & p=$!',
    'while kill -0 $p 2>/dev/null && [ ! -e "$GH_DIR/go" ]; do sleep 0.1; done',
    'if kill -0 $p 2>/dev/null; then',
    '  [ -n "$GH_SHOT" ] && import -window root "$GH_SHOT"',
    '  kill $p; wait $p; exit 0',
    'fi',
    'wait $p',
  ].join('\n');
  const t0 = Date.now();
  const child = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1024x768x24', 'timeout', String(o.timeoutS ?? 20), 'sh', '-c', script, 'sh', ...args],
    {
      env: { ...process.env, GH_DIR: dir, GH_SHOT: o.screenshot ?? '' },
      stdio: 'ignore',
    },
  );
  return new Promise((resolve) => {
    let loginMs: number | null = null;
    const poll = setInterval(() => {
      if (loginMs === null && o.xrdp.logins() > before) {
        loginMs = Date.now() - t0;
        // Give the client a moment to paint what xrdp drew before the screenshot.
        setTimeout(() => writeFileSync(go, ''), o.screenshot ? 1000 : 0);
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(poll);
      const output = existsSync(join(dir, 'xf.log')) ? readFileSync(join(dir, 'xf.log'), 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, loginMs, output });
    });
  });
}
