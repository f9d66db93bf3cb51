// The first hour, as a newcomer meets it: a busy port at the first start (a sentence naming the variable,
// and the one-time admin password still to come), then a start that works, then Ctrl-C/SIGTERM with a
// stdout whose reader is gone or has stopped reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const entry = join(root, 'test/helpers/cli-entry.ts');

function serve(dir: string, webPort: string): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_WEB_PORT: webPort,
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_HTTP_PROXY_PORT: '0',
    GATEHOUSE_LOG_LEVEL: 'info',
  };
  delete env.GATEHOUSE_ADMIN_PASSWORD;
  delete env.DATABASE_URL;
  return spawn(process.execPath, ['--import', 'tsx', entry, 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a stream's text until `pattern` shows (or the stream ends); rejects after `ms`. */
function until(stream: NodeJS.ReadableStream, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms; got:\n${text}`)), ms);
    const onData = (b: Buffer) => {
      text += b.toString();
      if (pattern.test(text)) done();
    };
    const done = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(text);
    };
    stream.on('data', onData);
    stream.once('end', done);
  });
}

const exited = (child: ChildProcess, ms: number) =>
  new Promise<{ code: number | null; ms: number }>((resolve, reject) => {
    const t0 = Date.now();
    if (child.exitCode !== null) return resolve({ code: child.exitCode, ms: 0 });
    const timer = setTimeout(() => reject(new Error(`still running ${ms} ms after the signal`)), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - t0 });
    });
  });

test('a busy port at the first start says which variable to set, and keeps the admin password for the next start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-first-run-'));
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as AddressInfo).port;
  let child: ChildProcess | null = null;
  try {
    child = serve(dir, String(port));
    const [out, err] = await Promise.all([until(child.stdout!, /$^/, 90_000), until(child.stderr!, /$^/, 90_000)]);
    const { code } = await exited(child, 10_000);
    assert.notEqual(code, 0);
    assert.match(err, new RegExp(`port ${port} is in use — is another Gatehouse running\\? Set GATEHOUSE_WEB_PORT`));
    assert.doesNotMatch(out, /First run/);
    busy.close();

    // The next start, on a free port: the one-time password is made and printed now, and it works.
    child = serve(dir, '0');
    const text = await until(child.stdout!, /Gatehouse is running: console and API on (\S+)/, 90_000);
    const password = /created user 'admin' with password (\S+)/.exec(text)?.[1];
    assert.ok(password, `no first-run password in:\n${text}`);
    const base = /Gatehouse is running: console and API on (\S+?)\/? /.exec(text)![1];
    const login = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    assert.equal(login.status, 200, await login.text());

    // Ctrl-C with `| tee log` ends tee first: the reader is gone. The server must still stop and exit.
    child.stdout!.destroy();
    child.kill('SIGINT');
    const stop = await exited(child, 8_000);
    assert.equal(stop.code, 0);
  } finally {
    busy.close();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logging to a stdout nobody reads never blocks: the process logs 20 MB, then exits at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-stall-'));
  const script = join(dir, 'stall.ts');
  writeFileSync(
    script,
    `import { makeLogger } from ${JSON.stringify(join(root, 'src/log.ts'))};
const log = makeLogger('info');
const filler = 'x'.repeat(1000);
for (let i = 0; i < 20_000; i++) log.info({ i, filler }, 'filling the pipe');
process.stderr.write('logged\\n');
setTimeout(() => process.exit(0), 100);
`,
  );
  // stdout is a pipe (a FIFO) whose read end this test holds open and never reads: after 64 KiB it is full.
  const fifo = join(dir, 'stdout.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', writer, 'pipe'] });
  closeSync(writer);
  try {
    await until(child.stderr!, /logged/, 60_000);
    const { code, ms } = await exited(child, 5_000);
    assert.equal(code, 0);
    assert.ok(ms < 5_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    closeSync(reader);
    rmSync(dir, { recursive: true, force: true });
  }
});

const BUILT = existsSync(join(root, 'dist/cli/main.js'));

/** Writes into the FIFO until it is full (EAGAIN); returns the bytes written. */
function fill(fifo: string): number {
  const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(1024, 'x');
  let n = 0;
  try {
    for (;;) n += writeSync(fd, chunk);
  } catch {
    return n; // EAGAIN: full
  } finally {
    closeSync(fd);
  }
}

/** Fills the FIFO until the paused reader has stopped taking more (its buffer is full too). */
async function stall(fifo: string): Promise<void> {
  for (let quiet = 0; quiet < 3;) {
    quiet = fill(fifo) === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test(
  'the built launcher under plain node: once stdout stops being read and is full, SIGINT still exits within seconds',
  { skip: BUILT ? false : 'dist/ not built: run npm run build' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-stalled-'));
    // stdout is a FIFO: the test reads it until the server says it runs, then stops reading and fills it,
    // as `npm start | less` does when the pager stops. No tsx: the compiled code and src/log-format.ts as shipped.
    const fifo = join(dir, 'stdout.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const out = new Socket({ fd: reader, readable: true, writable: false });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
      GATEHOUSE_ADMIN_PASSWORD: 'S3cret-pass',
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'info',
    };
    delete env.DATABASE_URL;
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [join(root, 'bin/gatehouse.js'), 'serve'], { cwd: dir, env, stdio: ['ignore', writer, 'pipe'] });
    closeSync(writer);
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      await until(out, /Gatehouse is running/, 90_000);
      out.pause();
      await stall(fifo);
      child.kill('SIGINT');
      const stop = await exited(child, 15_000);
      assert.equal(stop.code, 0, `exited by itself (signal ${child.signalCode}, after ${stop.ms} ms): ${stderr}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      out.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
