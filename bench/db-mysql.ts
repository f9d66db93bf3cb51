// MySQL through the gateway against MariaDB direct (issue 23). Run: npm run bench -- db-mysql
//  1. mysqlslap: 10 connections run `select 1` (BENCH_MYSQL_QUERIES in all, default 100000), direct and
//     through the gateway (a standing grant; every statement audited), over TLS both ways.
//  2. Connection set-up: the stock `mysql` client run BENCH_MYSQL_CONNECTS times (default 30), each a
//     new TLS login (through the gateway: the Gatehouse password check, decide(), the device login).
// The gateway runs in this process; the clients and MariaDB are separate processes.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { StatementWriter } from '../src/protocols/db-common/statement-writer.js';
import { startMysqlGateway } from '../src/protocols/mysql/index.js';
import { hasMariaDb, MARIADB_ACCOUNT, MARIADB_PASSWORD, selfSigned, startMariaDb } from './lib/mariadb.js';
import { ADMIN, seedOrg, testServices } from './lib/services.js';

const run = promisify(execFile);
const QUERIES = Number(process.env.BENCH_MYSQL_QUERIES ?? 100_000);
const CONNECTS = Number(process.env.BENCH_MYSQL_CONNECTS ?? 30);
const CONCURRENCY = 10;
const ROUNDS = Number(process.env.BENCH_MYSQL_ROUNDS ?? 3);

interface Target {
  name: string;
  port: number;
  user: string;
  password: string;
}

async function slap(t: Target): Promise<number> {
  const { stdout } = await run(
    'mysqlslap',
    [
      '--no-defaults',
      '-h',
      '127.0.0.1',
      '-P',
      String(t.port),
      '-u',
      t.user,
      `-p${t.password}`,
      `--concurrency=${CONCURRENCY}`,
      `--number-of-queries=${QUERIES}`,
      '--iterations=1',
      '--create-schema=app',
      '--no-drop',
      '--query=select 1',
    ],
    { maxBuffer: 1 << 20 },
  );
  const secs = Number(/Average number of seconds to run all queries: ([\d.]+)/.exec(stdout)?.[1]);
  return QUERIES / secs;
}

async function connects(t: Target): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < CONNECTS; i++)
    await run('mysql', ['--no-defaults', '-h', '127.0.0.1', '-P', String(t.port), '-u', t.user, `-p${t.password}`, '-N', '-e', 'select 1']);
  return (performance.now() - t0) / CONNECTS;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  if (!hasMariaDb()) {
    console.log('db-mysql: skipped (MariaDB server and client not installed: apt-get install mariadb-server mariadb-client)');
    return;
  }
  const db = await startMariaDb();
  const env = await testServices('sqlite', { real: true });
  const s = env.s;
  try {
    await seedOrg(s, { opsApproval: false });
    await s.admin.addDevice(ADMIN, { name: 'mdb01', host: '127.0.0.1', protocols: 'mysql', group: 'db', ports: { mysql: db.port } });
    await s.admin.addAccount(ADMIN, 'mdb01', MARIADB_ACCOUNT, { password: MARIADB_PASSWORD });
    await s.admin.grantAccess(ADMIN, 'ops', 'db', 'mysql');
    await s.bus.start();
    // BENCH_MYSQL_DEVICE_TLS=off: the device leg in plain text (what TLS costs there).
    if (process.env.BENCH_MYSQL_DEVICE_TLS)
      await s.admin.setDevice(ADMIN, 'mdb01', { options: { mysqlTls: process.env.BENCH_MYSQL_DEVICE_TLS } });
    s.config.mysqlPort = 0;
    const pair = selfSigned(env.dir, 'gatehouse');
    const writer = new StatementWriter(s.statements, s.log);
    const tls = createSecureContext({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) });
    const gw = (await startMysqlGateway(s, { tls, writer }))!;
    const direct: Target = { name: 'direct', port: db.port, user: MARIADB_ACCOUNT, password: MARIADB_PASSWORD };
    const gateway: Target = { name: 'gateway', port: gw.port, user: 'alice@mdb01', password: 'S3cret-pass' };
    const qps: Record<string, number[]> = { direct: [], gateway: [] };
    const ms: Record<string, number[]> = { direct: [], gateway: [] };
    // Alternating rounds: a busy moment on the machine hits both sides alike.
    for (let r = 0; r < ROUNDS; r++)
      for (const t of [direct, gateway]) {
        qps[t.name]!.push(await slap(t));
        ms[t.name]!.push(await connects(t));
      }
    await writer.flushed();
    const d = median(qps.direct!);
    const g = median(qps.gateway!);
    console.log(`mysqlslap select 1, ${CONCURRENCY} connections, ${QUERIES} queries, median of ${ROUNDS}:`);
    console.log(`  direct   ${d.toFixed(0)} queries/s`);
    console.log(
      `  gateway  ${g.toFixed(0)} queries/s  (${(g / d).toFixed(2)}x direct; statements audited: ${writer.written}, dropped: ${writer.dropped})`,
    );
    console.log(`connection set-up, stock mysql client, ${CONNECTS} in a row, median of ${ROUNDS}:`);
    console.log(`  direct   ${median(ms.direct!).toFixed(1)} ms per connection`);
    console.log(`  gateway  ${median(ms.gateway!).toFixed(1)} ms per connection`);
    await gw.close();
  } finally {
    await env.cleanup();
    await db.stop();
  }
}

await main();
