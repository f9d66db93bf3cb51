// The PostgreSQL audit's row count, read from CommandComplete's tag bytes, and one record per statement.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatementRecord } from '../../src/core/ports/statements.js';
import { PgAudit } from '../../src/protocols/postgres/audit.js';

function session(): { audit: PgAudit; out: StatementRecord[] } {
  const out: StatementRecord[] = [];
  const audit = new PgAudit({
    base: { sessionId: 7, user: 'alice', device: 'pgdb01', account: 'app_rw', protocol: 'postgres' },
    recordParameters: false,
    push: (r) => out.push(r),
    now: () => 1000,
  });
  return { audit, out };
}

const z = (audit: PgAudit) => audit.fromServer('Z', Buffer.from('I'));

describe('postgres audit row count', () => {
  const cases: [string, number | null][] = [
    ['SELECT 5\0', 5],
    ['INSERT 0 12\0', 12],
    ['COPY 100000\0', 100000],
    ['CREATE TABLE\0', null],
    ['UPDATE 0\0', 0],
    ['', null],
    ['SELECT 1234567890123456789\0', null],
  ];
  for (const [tag, rows] of cases)
    test(`${JSON.stringify(tag)} -> ${rows}`, () => {
      const { audit, out } = session();
      audit.fromClient('Q', Buffer.from('select 1\0'), 9);
      audit.fromServer('C', Buffer.from(tag, 'latin1'));
      z(audit);
      assert.equal(out.length, 1);
      assert.equal(out[0].rowCount, rows);
    });

  test('a multi-statement query sums its completions; records carry the session and are distinct objects', () => {
    const { audit, out } = session();
    audit.fromClient('Q', Buffer.from('select 1; select 2\0'), 19);
    audit.fromServer('C', Buffer.from('SELECT 1\0'));
    audit.fromServer('C', Buffer.from('SELECT 2\0'));
    z(audit);
    audit.fromClient('Q', Buffer.from('select 3\0'), 9);
    audit.fromServer('E', Buffer.from('SERROR\0C42601\0Msyntax error\0\0', 'latin1'));
    z(audit);
    assert.equal(out.length, 2);
    assert.deepEqual(
      { ...out[0] },
      {
        sessionId: 7,
        at: 1000,
        user: 'alice',
        device: 'pgdb01',
        account: 'app_rw',
        protocol: 'postgres',
        kind: 'query',
        statement: 'select 1; select 2',
        parameters: null,
        rowCount: 3,
        error: null,
      },
    );
    assert.notEqual(out[0], out[1]);
    assert.equal(out[1].rowCount, null);
    assert.match(out[1].error ?? '', /syntax error/);
  });
});
