// /metrics counts the statement audit per database protocol: statements written, and statements dropped
// when the audit could not keep them (here the audit table is renamed away, so every write fails) while
// the session itself goes on.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { dbOf } from '../helpers/kysely.js';
import { waitFor } from '../helpers/wait.js';
import { ALICE_PW, PG_PEER_SKIP, psql, startDevice, startGateway, type Device, type Gw } from './peer.js';

describe('postgres: the statement audit in /metrics', { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  before(async () => {
    dev = await startDevice();
    gw = await startGateway(dev, { approval: false, env: { GATEHOUSE_MYSQL_PORT: '0' } });
  });
  after(async () => {
    await gw?.stop();
    dev?.stop();
  });

  const metric = async (name: string, protocol: string): Promise<number | undefined> => {
    const res = await fetch(`http://127.0.0.1:${gw.g.webPort}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    const m = new RegExp(`^${name}\\{protocol="${protocol}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const written = (p = 'postgres') => metric('gatehouse_db_statements_written_total', p);
  const dropped = (p = 'postgres') => metric('gatehouse_db_statements_dropped_total', p);

  test('both database listeners start at zero', async () => {
    for (const p of ['postgres', 'mysql']) {
      assert.equal(await written(p), 0, `${p} written`);
      assert.equal(await dropped(p), 0, `${p} dropped`);
    }
  });

  test('written statements count; when the audit cannot write, the drops count and the session goes on', async () => {
    const ok = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1', '-c', 'select 2']);
    assert.equal(ok.code, 0, ok.stderr);
    await waitFor('two statements written', async () => ((await written()) ?? 0) >= 2, 10_000, 50);
    const before = (await written())!;

    const db = dbOf(gw.s);
    await sql`alter table db_statements rename to db_statements_away`.execute(db);
    try {
      const r = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 40 + 2 as answer', '-c', 'select 3']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\b42\b/);
      await waitFor('the failed writes counted', async () => ((await dropped()) ?? 0) >= 2, 10_000, 50);
    } finally {
      await sql`alter table db_statements_away rename to db_statements`.execute(db);
    }
    assert.equal(await written(), before, 'nothing counted as written while the table was away');
    assert.equal(gw.s.statementAudits.get('postgres')?.dropped, await dropped());
    assert.equal(await dropped('mysql'), 0);
  });
});
