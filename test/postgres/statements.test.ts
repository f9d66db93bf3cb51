// The statement audit shared by the database listeners: rows written in batches read back in order on
// SQLite and PostgreSQL; texts are capped; a slow database drops (and counts) instead of growing memory;
// parameters are redacted unless asked for. Also the shared target syntax and the db protocols' params.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, testServices, type TestEnv } from '../helpers/services.js';
import { parametersText, StatementWriter } from '../../src/protocols/db-common/statement-writer.js';
import { STATEMENT_MAX_CHARS, type StatementRecord } from '../../src/core/ports/statements.js';
import { parseTarget } from '../../src/core/target.js';

const row = (sessionId: number, i: number, over: Partial<StatementRecord> = {}): StatementRecord => ({
  sessionId,
  at: 1_700_000_000_000 + i,
  user: 'alice',
  device: 'pgdb01',
  account: 'app_rw',
  protocol: 'postgres',
  kind: 'query',
  statement: `select ${i}`,
  parameters: null,
  rowCount: 1,
  error: null,
  ...over,
});
const quiet = { warn: () => {} };

for (const target of DB_TARGETS) {
  describe(`statement audit on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => (t = await testServices(target.name)));
    after(async () => t?.cleanup());

    test('batches read back in order, per session, paged; long texts are capped', async () => {
      const w = new StatementWriter(t.s.statements, quiet);
      for (let i = 0; i < 450; i++) w.push(row(7, i));
      w.push(row(8, 0, { statement: 'x'.repeat(STATEMENT_MAX_CHARS * 3), kind: 'parse', rowCount: null, error: 'e'.repeat(5000) }));
      await w.flushed();
      assert.equal(w.written, 451);
      const first = await t.s.statements.forSession(7, 0, 400);
      assert.equal(first.length, 400);
      assert.deepEqual(
        first.slice(0, 2).map((r) => r.statement),
        ['select 0', 'select 1'],
      );
      const rest = await t.s.statements.forSession(7, first[399].id, 400);
      assert.equal(rest.length, 50);
      assert.equal(rest[49].statement, 'select 449');
      const [big] = await t.s.statements.forSession(8, 0, 10);
      assert.ok(big.statement.length < STATEMENT_MAX_CHARS + 100 && big.statement.includes('more characters'));
      assert.ok(big.error!.length <= 400);
      assert.equal(big.rowCount, null);
      assert.equal(big.kind, 'parse');
    });

    test('recording.db.parameters and disable.instant.approval.for.postgres|mysql are parameters', async () => {
      assert.equal((await t.s.params.params()).bool('recording.db.parameters'), false);
      for (const p of ['postgres', 'mysql']) assert.equal((await t.s.params.params()).bool(`disable.instant.approval.for.${p}`), false);
      await t.s.admin.addDevice(ADMIN, { name: 'pgdb01', host: '127.0.0.1', protocols: 'postgres,mysql', ports: { postgres: 5433 } });
      const d = (await t.s.policy.current()).devicesByName.get('pgdb01')!;
      assert.deepEqual(d.ports, { postgres: 5433, mysql: 3306 });
    });
  });
}

test('a slow database: the queue is bounded, push never waits, drops are counted', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen: number[] = [];
  const repo = {
    append: async (rows: StatementRecord[]) => {
      await gate;
      seen.push(rows.length);
    },
    forSession: async () => [],
  };
  const w = new StatementWriter(repo, quiet, 500);
  const t0 = Date.now();
  for (let i = 0; i < 5000; i++) w.push(row(1, i));
  assert.ok(Date.now() - t0 < 2000);
  assert.ok(w.dropped >= 4000);
  release();
  await w.flushed();
  assert.equal(w.written + w.dropped, 5000);
});

test('parameters are redacted unless recorded', () => {
  assert.equal(parametersText(['42', null], false), '["[redacted]","[redacted]"]');
  assert.equal(parametersText(['42', null], true), '["42",null]');
  assert.equal(parametersText([], false), null);
});

test('the target syntax is shared: user@device and user@account@device', () => {
  const s = 'use user@device';
  assert.deepEqual(parseTarget('alice@pgdb01', s), { user: 'alice', device: 'pgdb01', account: null, error: null });
  assert.deepEqual(parseTarget('alice@app_rw@pgdb01', s), { user: 'alice', device: 'pgdb01', account: 'app_rw', error: null });
  assert.match(parseTarget('alice@a@b@c', s).error!, /too many/);
  assert.match(parseTarget('alice@\u0000x', s).error!, /not a valid target/);
});
