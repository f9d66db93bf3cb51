// `npm run bench -- <name>`: runs bench/<name>.ts (never part of npm test). PostgreSQL is started like in tests.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { startPostgres } from './pg.mjs';

const names = readdirSync('bench')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''));
const want = process.argv[2];
if (!want || !names.includes(want)) {
  console.error(`usage: npm run bench -- <name>   (one of: ${names.join(', ')})`);
  process.exit(2);
}
const env = { ...process.env };
let pg = null;
if (!env.GATEHOUSE_TEST_PG_URL) {
  pg = await startPostgres();
  if (pg.url) env.GATEHOUSE_TEST_PG_URL = pg.url;
  else console.error(`(PostgreSQL figures skipped: ${pg.reason})`);
}
// The benchmark process (which runs the gateway in-process in most benchmarks) gets the node flags the
// launcher gives the gateway in production: its shebang's (src/runtime.ts). BENCH_DEFAULT_RUNTIME=1: none.
// BENCH_NODE_FLAGS adds more (e.g. --cpu-prof, which NODE_OPTIONS does not take).
const flags = [
  ...(process.env.BENCH_DEFAULT_RUNTIME ? [] : readFileSync('bin/gatehouse.js', 'utf8').split('\n')[0].split(' ').slice(3)),
  ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];
const child = spawn(process.execPath, [...flags, '--import', 'tsx', `bench/${want}.ts`, ...process.argv.slice(3)], {
  stdio: 'inherit',
  env,
});
child.on('exit', (code) => {
  pg?.stop?.();
  process.exit(code ?? 1);
});
// Stopped from outside (Ctrl-C, timeout): the benchmark stops too, and its PostgreSQL is not left behind.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    child.kill(sig);
    pg?.stop?.();
    setTimeout(() => process.exit(1), 5000).unref();
  });
