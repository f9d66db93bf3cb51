// The statement store's batches: the INSERT text kept per batch size writes every value where it belongs,
// on SQLite and PostgreSQL, whatever the values (nulls, quotes, control characters) of a later batch.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StatementRecord } from '../../src/core/ports/statements.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { DB_TARGETS } from '../helpers/db.js';

function rec(i: number, nulls: boolean): StatementRecord {
  return {
    sessionId: 4242,
    at: 1_000 + i,
    user: 'alice',
    device: 'pgdb01',
    account: 'app_rw',
    protocol: i % 2 ? 'mysql' : 'postgres',
    kind: 'query',
    statement: `select '${i}'; -- "q" \u0001 ?`,
    parameters: nulls ? null : JSON.stringify(['[redacted]', String(i)]),
    rowCount: nulls ? null : i,
    error: nulls ? null : `error ${i} $1`,
  };
}

for (const db of DB_TARGETS)
  describe(`statement store batches (${db.name})`, { skip: db.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(db.name);
    });
    after(async () => t?.cleanup());

    test('same-size batches with other values, and other sizes, read back as written', async () => {
      const written: StatementRecord[] = [];
      for (const batch of [
        [rec(0, false), rec(1, true), rec(2, false)],
        [rec(3, true), rec(4, false), rec(5, true)],
        [rec(6, false), rec(7, false), rec(8, false)],
        [rec(9, true)],
        [rec(10, false)],
      ]) {
        await t.s.statements.append(batch);
        written.push(...batch);
      }
      const back = await t.s.statements.forSession(4242, 0, 100);
      assert.deepEqual(
        back.map(({ id: _id, ...r }) => r),
        written,
      );
    });
  });
