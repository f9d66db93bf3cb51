// Newcomer time (issue 20): the README's path from a fresh clone to an approved ssh session, timed.
// git clone, cd, npm ci (npm cache warm: the figure is the README path, not the network), npm run demo,
// then the demo's printed steps with stock ssh and the CLI approval it prints. Every command a user would
// type is counted; answers to prompts (host key "yes", a password) are not commands.
// better-sqlite3's install downloads a prebuilt binary from GitHub; this machine may have no route there, so
// the bench serves the one in this checkout's node_modules from a local mirror (same file, same step).
// Run: npm run bench -- newcomer [repo]   (repo: what to clone, default this checkout)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(process.argv[2] ?? '.');
const STEP_TIMEOUT_MS = 15 * 60_000;
const TARGET = { minutes: 5, commands: 10 };

const typed: string[] = [];
const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1);
const say = (m: string) => process.stdout.write(`[${elapsed()} s] ${m}\n`);

/** A port nothing listens on now, so the demo can run beside other demos on this machine. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** A command the user types and waits for; it must succeed. Async: the prebuild mirror serves meanwhile. */
function run(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  typed.push(line);
  say(`$ ${line}`);
  return new Promise((done, fail) => {
    const p = spawn('sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: STEP_TIMEOUT_MS });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? done(out) : fail(new Error(`'${line}' exited ${code}: ${(err || out).slice(-2000)}`))));
  });
}

/** Resolves with the text once `re` matches what the process printed so far. */
function waitFor(out: { text: string }, p: ChildProcess, re: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no ${what} within ${STEP_TIMEOUT_MS / 1000} s; output:\n${out.text.slice(-3000)}`)),
      STEP_TIMEOUT_MS,
    );
    const check = () => {
      const m = out.text.match(re);
      if (m) {
        clearTimeout(timer);
        p.stdout?.off('data', check);
        p.off('exit', gone);
        done(m);
      }
    };
    const gone = (code: number | null) => {
      clearTimeout(timer);
      fail(new Error(`${what}: the process exited (${code}) first; output:\n${out.text.slice(-3000)}`));
    };
    p.stdout?.on('data', check);
    p.once('exit', gone);
    check();
  });
}

function background(line: string, cwd: string, env: NodeJS.ProcessEnv): { p: ChildProcess; out: { text: string } } {
  typed.push(line);
  say(`$ ${line}   (keeps running)`);
  const p = spawn('sh', ['-c', `exec ${line}`], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const out = { text: '' };
  p.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out.text += d.toString()));
  return { p, out };
}

/** A local stand-in for better-sqlite3's GitHub release: its prebuilt tarball, made from node_modules. */
async function prebuildMirror(dir: string): Promise<{ url: string; server: Server }> {
  const pkgDir = resolve('node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  mkdirSync(join(dir, `v${version}`), { recursive: true });
  const tarball = join(dir, `v${version}`, name);
  const r = spawnSync('tar', ['czf', tarball, '-C', pkgDir, 'build/Release/better_sqlite3.node']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr.toString()}`);
  const body = readFileSync(tarball);
  const server = createHttpServer((req, res) => {
    const ok = req.url === `/v${version}/${name}`;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/octet-stream' }).end(ok ? body : undefined);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** ssh's askpass: answers the host-key question "yes" only for the fingerprint the demo printed. */
function askpass(dir: string, password: string, fingerprint: string): string {
  const file = join(dir, 'askpass.sh');
  writeFileSync(
    file,
    `#!/bin/sh
case "$1" in
  *"${fingerprint}"*) echo yes ;;
  *yes/no*) echo no ;;
  *) echo '${password}' ;;
esac
`,
  );
  chmodSync(file, 0o700);
  return file;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-newcomer-'));
  const load0 = loadavg();
  const mirror = await prebuildMirror(join(work, 'mirror'));
  const ports = { web: await freePort(), ssh: await freePort(), proxy: await freePort(), rdp: await freePort() };
  // The user's own shell: a HOME of its own (no known_hosts, no keys, so the demo uses its built-in
  // target), the warm npm cache, and free ports for the demo (the only departure from the README path).
  const home = join(work, 'home');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: join(work, 'tmp'),
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '', '.npm'),
    npm_config_userconfig: process.env.npm_config_userconfig ?? join(process.env.HOME ?? '', '.npmrc'),
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_better_sqlite3_binary_host: mirror.url,
    NO_PROXY: '127.0.0.1',
    no_proxy: '127.0.0.1',
    GATEHOUSE_WEB_PORT: String(ports.web),
    GATEHOUSE_SSH_PORT: String(ports.ssh),
    GATEHOUSE_HTTP_PROXY_PORT: String(ports.proxy),
    GATEHOUSE_RDP_PORT: String(ports.rdp),
  };
  spawnSync('mkdir', ['-p', join(home, '.ssh'), env.TMPDIR!]);
  const clone = join(work, 'gatehouse');
  let demo: ReturnType<typeof background> | null = null;
  let ssh: ChildProcess | null = null;
  try {
    await run(`git clone --quiet ${REPO} ${clone}`, work, env);
    typed.push(`cd gatehouse`);
    const tCi = performance.now();
    await run('npm ci', clone, env);
    const ciSeconds = (performance.now() - tCi) / 1000;
    demo = background('npm run demo', clone, env);
    const printed = await waitFor(demo.out, demo.p, /Ctrl-C stops it[\s\S]*?Try a rejection too[^\n]*\n/, "the demo's steps");
    const text = printed[0];
    const alice = text.match(/alice\s+password (\S+)/)![1];
    const sshLine = text.match(/^\s+(ssh -p \d+ alice@\S+)$/m)![1];
    const fingerprint = text.match(/(SHA256:\S+)/)![1];
    const approveLine = text.match(/(GATEHOUSE_DATA_DIR=\S+ \S+ approvals approve <number> --as bob --comment 'ok')/)![1];
    const listLine = text.match(/(GATEHOUSE_DATA_DIR=\S+ \S+ approvals list --as bob)/)![1];

    typed.push(sshLine);
    say(`$ ${sshLine}   (in a second terminal; answers yes to ${fingerprint} and types alice's password)`);
    // ssh reads ~/.ssh from the passwd entry, not $HOME: the known_hosts file is named, as a new user's would be empty.
    const sshEnv = { ...env, SSH_ASKPASS: askpass(work, alice, fingerprint), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
    ssh = spawn('sh', ['-c', `exec ${sshLine.replace(/^ssh /, `ssh -tt -o UserKnownHostsFile=${join(home, '.ssh', 'known_hosts')} `)}`], {
      cwd: clone,
      env: sshEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const sshOut = { text: '' };
    ssh.stdout!.on('data', (d: Buffer) => (sshOut.text += d.toString()));
    ssh.stderr!.on('data', (d: Buffer) => (sshOut.text += d.toString()));
    const req = await waitFor(sshOut, ssh, /Request #(\d+)/, 'the waiting request number');

    const listed = await run(listLine, clone, env);
    if (!listed.includes(`${req[1]}`)) throw new Error(`the list does not show request #${req[1]}:\n${listed}`);
    await run(approveLine.replace('<number>', req[1]), clone, env);
    await waitFor(sshOut, ssh, /~\$ /, "the session's shell prompt");
    const tApproved = performance.now();
    ssh.stdin!.write('echo newcomer-ok\r');
    await waitFor(sshOut, ssh, /\nnewcomer-ok\r?\n/, 'the echo in the approved session');
    ssh.stdin!.write('exit\r');
    typed.push('echo newcomer-ok', 'exit');

    const minutes = (tApproved - t0) / 60_000;
    const load1 = loadavg();
    const box = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GB`;
    say('approved ssh session reached');
    process.stdout.write(
      [
        '',
        `commands typed to the approved session: ${typed.length - 2} (+ 2 in the session: echo, exit)`,
        ...typed.map((c, i) => `  ${i + 1}. ${c}`),
        `wall time to the approved session: ${minutes.toFixed(1)} min (npm ci alone: ${(ciSeconds / 60).toFixed(1)} min)`,
        `machine: ${box}; load average (1/5/15 min) before ${load0.map((x) => x.toFixed(1)).join('/')}, after ${load1
          .map((x) => x.toFixed(1))
          .join('/')}`,
        `target: <= ${TARGET.minutes} min and <= ${TARGET.commands} commands: ${
          minutes <= TARGET.minutes && typed.length - 2 <= TARGET.commands ? 'met' : 'NOT met'
        }`,
        '',
      ].join('\n'),
    );
  } finally {
    ssh?.kill();
    if (demo?.p.pid) {
      try {
        process.kill(-demo.p.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
      await new Promise((r) => setTimeout(r, 3000));
      try {
        process.kill(-demo.p.pid, 'SIGKILL');
      } catch {
        /* stopped */
      }
    }
    mirror.server.close();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`newcomer: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
