// The CLI loads only what a command needs: data commands and --help never load the server, the proxies,
// Fastify or the protocol libraries. A resolve hook records every ES module; require.cache adds CommonJS.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/cli-bundle/main.js', import.meta.url));
const TSC_ENTRY = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
/** The launcher uses the bundle only when no later tsc build made it stale. */
const bundleFresh = existsSync(BUNDLE) && existsSync(TSC_ENTRY) && statSync(BUNDLE).mtimeMs >= statSync(TSC_ENTRY).mtimeMs;

// Runs after tsx's hooks (registered later, called first), so it sees the final URL of every import.
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  appendFileSync(process.env.GH_IMPORT_LOG, r.url + '\\n');
  return r;
}`;
const RECORDER = `
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));
process.on('exit', () => appendFileSync(process.env.GH_IMPORT_LOG, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n'));
`;

const FORBIDDEN: [string, RegExp][] = [
  ['fastify', /node_modules\/(fastify|@fastify\/[^/]+)\//],
  ['ssh2', /node_modules\/ssh2\//],
  ['undici', /node_modules\/undici\//],
  ['nodemailer', /node_modules\/nodemailer\//],
  ['imapflow', /node_modules\/imapflow\//],
  ['ldapts', /node_modules\/ldapts\//],
  ['qrcode', /node_modules\/qrcode\//],
  ['prom-client', /node_modules\/prom-client\//],
  ['src/protocols', /\/src\/protocols\//],
  ['src/api', /\/src\/api\//],
  ['src/main.ts', /\/src\/main\.ts$/],
];

describe('CLI start: each command loads only what it needs', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cli-imports-'));
    writeFileSync(join(dir, 'recorder.mjs'), RECORDER);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function loaded(
    args: string[],
    entry: string[] = ['--import', 'tsx', '--import', join(dir, 'recorder.mjs'), ENTRY],
  ): Promise<{ code: number; modules: string[]; stdout: string; stderr: string }> {
    const log = join(dir, `imports-${args.join('-').replace(/\W+/g, '_')}.txt`);
    writeFileSync(log, '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GH_IMPORT_LOG: log,
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [...entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    return { code, stdout, stderr, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  }

  function assertLean(modules: string[]): void {
    for (const [name, re] of FORBIDDEN) {
      const hit = modules.find((m) => re.test(m));
      assert.equal(hit, undefined, `${name} was loaded: ${hit}`);
    }
  }

  test('approvals list reads the database without the server, proxies or protocol libraries', async () => {
    const r = await loaded(['approvals', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(none\)/);
    assert.ok(
      r.modules.some((m) => m.includes('/src/cli/data-services.ts')),
      'the recorder saw the CLI load',
    );
    assertLean(r.modules);
    assert.equal(
      r.modules.find((m) => /node_modules\/zod\//.test(m)),
      undefined,
      'the config is validated without zod',
    );
  });

  test('--help loads no database or config code either', async () => {
    const r = await loaded(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: gatehouse/);
    assertLean(r.modules);
    for (const heavy of [/node_modules\/kysely\//, /node_modules\/zod\//, /\/src\/storage\//, /node_modules\/better-sqlite3\//])
      assert.equal(
        r.modules.find((m) => heavy.test(m)),
        undefined,
        `--help loaded ${heavy}`,
      );
  });

  test('the recorder catches a command that does load the protocols', async () => {
    // rdp-file needs the RDP front-end's ticket code: the recorder must see src/protocols there.
    const r = await loaded(['rdp-file', 'nosuch']);
    assert.notEqual(r.code, 0);
    assert.ok(
      r.modules.some((m) => /\/src\/protocols\//.test(m)),
      'src/protocols seen',
    );
  });

  test(
    'the built bundle: approvals list loads a few chunks, and no server, proxy or protocol package',
    { skip: !bundleFresh && 'dist/cli-bundle is missing or stale (npm run build)' },
    async () => {
      const r = await loaded(['approvals', 'list'], ['--import', join(dir, 'recorder.mjs'), BIN]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\(none\)/);
      assert.ok(
        r.modules.some((m) => m.includes('/dist/cli-bundle/')),
        'the launcher used the bundle',
      );
      assertLean(r.modules);
      for (const heavy of [
        /\/dist\/main\.js$/,
        /\/dist\/(api|protocols)\//,
        /node_modules\/(kysely|zod|pino|pg)\//,
        /node_modules\/undici\//,
      ])
        assert.equal(
          r.modules.find((m) => heavy.test(m)),
          undefined,
          `the bundle loaded ${heavy}`,
        );
    },
  );
});
