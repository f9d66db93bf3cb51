// Data through the PostgreSQL gateway: COPY of 100 MB both ways, the stock pgbench (initialise,
// select-only, -C), statements recorded (simple and extended protocol) with row counts, parameters
// redacted unless recording.db.parameters is on, and the vaulted password never reaching the user, the
// logs, the audit log or the statements.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { dbOf } from '../helpers/kysely.js';
import { waitFor } from '../helpers/wait.js';
import { hasBinary, missing } from '../helpers/peers.js';
import { ADMIN, ALICE_PW, APP_RW_PW, PG_PEER_SKIP, psql, startDevice, startGateway, type Device, type Gw } from './peer.js';

const ROWS = 1_000_000;
const LINE = 'x'.repeat(99);

describe('postgres through the gateway: data and audit', { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  before(async () => {
    dev = await startDevice();
    gw = await startGateway(dev, { approval: false });
  });
  after(async () => {
    await gw?.stop();
    dev?.stop();
  });

  const client = () =>
    new pg.Client({
      host: '127.0.0.1',
      port: gw.port,
      user: 'alice@pgdb01',
      password: ALICE_PW,
      database: 'app',
      ssl: { rejectUnauthorized: false },
    });

  test('COPY of 100 MB in and out', { timeout: 240_000 }, async () => {
    const data = `${LINE}\n`.repeat(ROWS);
    const inRun = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'create table big (t text)', '-c', '\\copy big from stdin'], {
      input: data,
      timeoutMs: 200_000,
    });
    assert.equal(inRun.code, 0, inRun.stderr);
    assert.match(inRun.stdout, new RegExp(`COPY ${ROWS}`));
    const out = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', '\\copy big to stdout'], { timeoutMs: 200_000 });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.length, data.length);
    await waitRows(gw, /from stdin/i);
    const rows = await waitRows(gw, /to stdout/i);
    const copyIn = rows.find((r) => /from stdin/i.test(r.statement));
    assert.equal(copyIn?.rowCount, ROWS);
    const copyOut = rows.find((r) => /to stdout/i.test(r.statement));
    assert.equal(copyOut?.rowCount, ROWS);
  });

  const pgbenchSkip = missing('pgbench', hasBinary('pgbench'), 'install postgresql-contrib');
  test(
    'pgbench through the gateway: initialise, select-only, and a new connection per transaction',
    { skip: pgbenchSkip, timeout: 240_000 },
    async () => {
      const conn = ['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'alice@pgdb01'];
      const env = { PGPASSWORD: ALICE_PW, PGSSLMODE: 'require' };
      const init = await pgbench(['-i', '-q', '-s', '1', ...conn, 'app'], env);
      assert.equal(init.code, 0, init.out);
      const select = await pgbench(['-S', '-n', '-c', '4', '-j', '2', '-t', '50', ...conn, 'app'], env);
      assert.equal(select.code, 0, select.out);
      assert.match(select.out, /number of transactions actually processed: 200\/200/);
      const perTx = await pgbench(['-S', '-n', '-C', '-c', '2', '-j', '2', '-t', '10', ...conn, 'app'], env);
      assert.equal(perTx.code, 0, perTx.out);
      assert.match(perTx.out, /number of transactions actually processed: 20\/20/);
      for (const run of [init, select, perTx]) assert.ok(!run.out.includes(APP_RW_PW));
      // Every select-only transaction is one recorded statement.
      const selects = async () => (await statements(gw)).filter((r) => /^SELECT abalance FROM pgbench_accounts/i.test(r.statement));
      await waitFor('the pgbench statements recorded', async () => (await selects()).length >= 220, 20_000, 100);
      assert.ok((await selects()).every((r) => r.rowCount === 1 && r.user === 'alice' && r.account === 'app_rw'));
    },
  );

  test('the device login: SCRAM-SHA-256 (app_rw) and md5 (legacy) accounts both connect', async () => {
    for (const [user, role] of [
      ['alice@app_rw@pgdb01', 'app_rw'],
      ['alice@legacy@pgdb01', 'legacy'],
    ]) {
      const r = await psql(gw.port, user, ALICE_PW, ['-At', '-c', 'select current_user']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), role);
    }
  });

  test('simple and extended statements are recorded with row counts; parameters redacted by default', async () => {
    const c = client();
    await c.connect();
    await c.query('select generate_series(1, 3) as n');
    await c.query('select $1::int + 1 as n', [41]);
    await c.query({ name: 'named', text: 'select $1::text as s', values: ['card-4111'] });
    await c.query('select nope').catch(() => {});
    await c.end();
    const rows = await waitRows(gw, /select nope/);
    const series = rows.find((r) => r.statement === 'select generate_series(1, 3) as n')!;
    assert.equal(series.kind, 'query');
    assert.equal(series.rowCount, 3);
    const exec = rows.find((r) => r.kind === 'execute' && r.statement === 'select $1::int + 1 as n')!;
    assert.equal(exec.parameters, '["[redacted]"]');
    assert.equal(exec.rowCount, 1);
    assert.ok(rows.some((r) => r.kind === 'prepare' && r.statement === 'select $1::text as s'));
    assert.ok(!JSON.stringify(rows).includes('card-4111'));
    assert.match(rows.find((r) => /select nope/.test(r.statement))!.error ?? '', /42703/);
    const s0 = rows[0];
    assert.deepEqual([s0.user, s0.device, s0.account, s0.protocol], ['alice', 'pgdb01', 'app_rw', 'postgres']);
  });

  test('with recording.db.parameters=true the values are kept', async () => {
    await gw.s.admin.setParam(ADMIN, 'recording.db.parameters', 'true');
    gw.s.params.invalidate();
    const c = client();
    await c.connect();
    await c.query('select $1::text as kept', ['visible-value']);
    await c.end();
    const rows = await waitRows(gw, /as kept/, 'execute');
    assert.equal(rows.find((r) => r.kind === 'execute' && /as kept/.test(r.statement))!.parameters, '["visible-value"]');
    await gw.s.admin.setParam(ADMIN, 'recording.db.parameters', 'false');
  });

  test('the vaulted password is never shown, logged, audited or recorded, even when the device refuses it', async () => {
    const logged: string[] = [];
    const log = gw.s.log as unknown as Record<string, (...a: unknown[]) => void>;
    const saved = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((k) => [k, log[k]] as const);
    for (const [k, fn] of saved)
      log[k] = (...a: unknown[]) => {
        logged.push(JSON.stringify(a));
        fn.apply(gw.s.log, a);
      };
    await dev.sql(`alter role app_rw password 'changed-elsewhere-123'`);
    try {
      const r = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /could not open pgdb01 as app_rw: the device refused the login/);
      const everything = [r.stdout, r.stderr, ...logged, JSON.stringify(await dbOf(gw.s).selectFrom('audit_log').selectAll().execute())];
      everything.push(JSON.stringify(await dbOf(gw.s).selectFrom('db_statements').selectAll().execute()));
      for (const text of everything) assert.ok(!text.includes(APP_RW_PW), 'the vaulted password leaked');
    } finally {
      for (const [k, fn] of saved) log[k] = fn;
      await dev.sql(`alter role app_rw password '${APP_RW_PW}'`);
    }
  });
});

describe('postgres through the gateway: the device certificate can be pinned', { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  before(async () => {
    dev = await startDevice();
    gw = await startGateway(dev, { approval: false });
  });
  after(async () => {
    await gw?.stop();
    dev?.stop();
  });

  test('the pinned certificate connects; another one is refused; require without TLS is refused', async () => {
    await gw.s.admin.setDevice(ADMIN, 'pgdb01', { options: { postgresTls: `sha256:${dev.fingerprint}` } });
    const ok = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1 as pinned']);
    assert.equal(ok.code, 0, ok.stderr);
    await gw.s.admin.setDevice(ADMIN, 'pgdb01', { options: { postgresTls: `sha256:${'0'.repeat(64)}` } });
    const bad = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /certificate other than the pinned one/);
    // A mistyped pin refuses the device; it never falls back to a weaker check.
    await gw.s.admin.setDevice(ADMIN, 'pgdb01', { options: { postgresTls: 'sha256:not-a-fingerprint' } });
    const typo = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /postgresTls option is not prefer, require, off or sha256/);
    await dev.sql('alter system set ssl = off');
    await dev.sql('select pg_reload_conf()');
    await gw.s.admin.setDevice(ADMIN, 'pgdb01', { options: { postgresTls: 'require' } });
    const plain = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1']);
    assert.match(plain.stderr, /does not offer TLS/);
  });
});

/** The stock pgbench, asynchronous (the gateway runs in this process's event loop); stdout and stderr together. */
function pgbench(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = spawn('pgbench', args, { env: { ...process.env, ...env } });
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const t = setTimeout(() => p.kill('SIGKILL'), 180_000);
  return new Promise((resolve) =>
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    }),
  );
}

async function statements(gw: Gw) {
  const sessions = await dbOf(gw.s).selectFrom('sessions').select('id').where('protocol', '=', 'postgres').execute();
  const out = [];
  for (const s of sessions) out.push(...(await gw.s.statements.forSession(s.id, 0, 1000)));
  return out;
}

async function waitRows(gw: Gw, re: RegExp, kind?: string) {
  for (let i = 0; i < 100; i++) {
    const rows = await statements(gw);
    if (rows.some((r) => re.test(r.statement) && (!kind || r.kind === kind))) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no statement matching ${re}`);
}
