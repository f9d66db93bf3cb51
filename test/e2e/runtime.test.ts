// A real `serve` started the way the launcher's shebang starts it gets the runtime flags (src/runtime.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { within } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('serve started with the shebang interpreter logs the young generation it got', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-runtime-'));
  // The shebang's interpreter line, running the CLI from source (a build in dist/ may be stale here).
  const interp = readFileSync(join(root, 'bin/gatehouse.js'), 'utf8').split('\n')[0].slice(2).split(' ');
  const entry = join(root, 'test/helpers/cli-entry.ts');
  const env = {
    ...process.env,
    NODE_OPTIONS: '',
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_HTTP_PROXY_PORT: '0',
    GATEHOUSE_LOG_LEVEL: 'info',
    GATEHOUSE_ADMIN_PASSWORD: 'admin-password-1',
  };
  const child = spawn(interp[0], [...interp.slice(1), '--import', 'tsx', entry, 'serve'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    // pino writes JSON lines on stdout; the deadline and the clear failure come from within().
    const lines = createInterface({ input: child.stdout });
    const started = await within<Record<string, unknown>>(60_000, "serve's 'gatehouse started' line", (done) => {
      const onLine = (line: string) => {
        if (line.includes('"gatehouse started"')) done(JSON.parse(line) as Record<string, unknown>);
      };
      lines.on('line', onLine);
      return () => lines.off('line', onLine);
    });
    assert.equal(started.semiSpaceMb, 64);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
