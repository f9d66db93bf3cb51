// A MySQL gateway in process on real services (SQLite, real clock), a throw-away MariaDB behind it as
// device `mdb01` (account app_rw, vaulted), and the stock `mysql` client to drive it.
import { spawn } from 'node:child_process';
import pino from 'pino';
import { REDACT } from '../../src/log.js';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { selfSigned, startMariaDb, MARIADB_ACCOUNT, MARIADB_PASSWORD, type MariaDb } from '../../bench/lib/mariadb.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../../bench/lib/services.js';
import { StatementWriter } from '../../src/protocols/db-common/statement-writer.js';
import { startMysqlGateway, type MysqlGateway } from '../../src/protocols/mysql/index.js';
import type { Services } from '../../src/services.js';
import { waitFor } from '../helpers/wait.js';

export const USER_PASSWORD = 'S3cret-pass';

export interface MysqlEnv {
  env: TestEnv;
  /** Every log line the gateway wrote (debug and up). */
  logs: string[];
  s: Services;
  db: MariaDb;
  gw: MysqlGateway;
  writer: StatementWriter;
  /** Another gateway on the same services that holds a login only `holdMs`. */
  restart(o: { holdMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export async function mysqlEnv(o: { holdMs?: number } = {}): Promise<MysqlEnv> {
  const db = await startMariaDb();
  const env = await testServices('sqlite', { real: true });
  const s = env.s;
  try {
    await seedOrg(s, { opsApproval: true });
    await s.admin.addDevice(ADMIN, { name: 'mdb01', host: '127.0.0.1', protocols: 'mysql', group: 'db', ports: { mysql: db.port } });
    await s.admin.addAccount(ADMIN, 'mdb01', MARIADB_ACCOUNT, { password: MARIADB_PASSWORD });
    await s.admin.grantAccess(ADMIN, 'ops', 'db', 'mysql');
    s.config.mysqlPort = 0;
    await s.bus.start();
  } catch (err) {
    await env.cleanup();
    await db.stop();
    throw err;
  }
  // The gateway's own log lines, kept to check that no password reaches them.
  const logs: string[] = [];
  (s as { log: Services['log'] }).log = pino(
    { level: 'debug', redact: { paths: REDACT, censor: '[redacted]' } },
    { write: (l: string) => void logs.push(l) },
  );
  const pair = selfSigned(env.dir, 'gatehouse');
  const tls = createSecureContext({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) });
  const writer = new StatementWriter(s.statements, s.log);
  const start = (holdMs?: number) => startMysqlGateway(s, { tls, writer, holdMs });
  const me: MysqlEnv = {
    env,
    logs,
    s,
    db,
    gw: (await start(o.holdMs))!,
    writer,
    async restart(r) {
      await me.gw.close();
      s.config.mysqlPort = 0;
      me.gw = (await start(r.holdMs))!;
    },
    async stop() {
      await me.gw.close().catch(() => {});
      await writer.flushed().catch(() => {});
      await env.cleanup();
      await db.stop();
    },
  };
  return me;
}

export interface ClientRun {
  code: number | null;
  out: string;
  err: string;
}

/** The stock client: `mysql -h 127.0.0.1 -P port -u user -pPASSWORD -N -B -e sql [db]`, with `input` on stdin. */
export function mysqlClient(
  port: number,
  user: string,
  sql: string,
  o: { password?: string; extra?: string[]; db?: string; input?: string; timeoutMs?: number } = {},
): { done: Promise<ClientRun>; kill(): void } {
  const args = [
    '--no-defaults',
    '-h',
    '127.0.0.1',
    '-P',
    String(port),
    '-u',
    user,
    `-p${o.password ?? USER_PASSWORD}`,
    '-N',
    '-B',
    ...(o.extra ?? []),
    '-e',
    sql,
  ];
  if (o.db) args.push(o.db);
  const p = spawn('mysql', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  p.stdin.end(o.input ?? '');
  const t = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const done = new Promise<ClientRun>((resolve) =>
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    }),
  );
  return { done, kill: () => p.kill('SIGKILL') };
}

/** The waiting request of `username` (created by a held login). */
export async function waitingRequest(s: Services, username: string): Promise<number> {
  const u = (await s.policy.current()).usersByName.get(username)!;
  return waitFor(
    `a waiting request of ${username}`,
    async () => (await s.store.listRequests({ requesterId: u.id, status: 'waiting', limit: 10 }))[0]?.id,
    20_000,
    50,
  );
}
