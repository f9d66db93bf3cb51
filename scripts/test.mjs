// `npm test`: runs every test/**/*.test.ts with node's test runner (through tsx).
// PostgreSQL: uses GATEHOUSE_TEST_PG_URL, else starts a throw-away cluster when PostgreSQL is installed,
// else the PostgreSQL tests skip with a reason (or fail when GATEHOUSE_TEST_REQUIRE_PEERS=1).
// Pass file paths or name fragments to run a subset: npm test -- approvals
// Tiers: test/unit/ is pure and in-memory (`npm run test:unit`, seconds, no PostgreSQL); every other
// folder is integration (real SQLite/PostgreSQL, local sockets) or end-to-end (spawned gateways and peers).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startPostgres } from './pg.mjs';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = walk('test').sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error('no test files match');
  process.exit(1);
}

const env = { ...process.env };
let pg = null;
const unitOnly = files.every((f) => f.startsWith(join('test', 'unit')));
if (!env.GATEHOUSE_TEST_PG_URL && !unitOnly) {
  pg = await startPostgres();
  if (pg.url) env.GATEHOUSE_TEST_PG_URL = pg.url;
  else env.GATEHOUSE_TEST_PG_SKIP_REASON = pg.reason;
}

const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files.map((f) => relative('.', f))];
const child = spawn(process.execPath, args, { stdio: 'inherit', env });
const cleanup = () => pg?.stop?.();
process.on('SIGINT', () => child.kill('SIGINT'));
child.on('exit', (code, signal) => {
  cleanup();
  process.exit(code ?? (signal ? 1 : 0));
});
