// The MySQL gateway with the stock `mysql` client and a real MariaDB behind it: the held login and its
// outcomes, one answer for every refusal, TLS required, revocation closing the session, the statements
// recorded, and the vaulted password never reaching the user.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hasMariaDb, MARIADB_PASSWORD } from '../../bench/lib/mariadb.js';
import { ADMIN } from '../../bench/lib/services.js';
import { missing } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';
import { mysqlClient, mysqlEnv, USER_PASSWORD, waitingRequest, type ClientRun, type MysqlEnv } from './helpers.js';

const skip = missing('MariaDB server and client', hasMariaDb(), 'apt-get install mariadb-server mariadb-client');
const OPERATOR = { channel: 'cli' as const, proof: 'operator' as const };

describe('mysql gateway with the stock client', { skip }, () => {
  let m: MysqlEnv;
  const runs: ClientRun[] = [];
  const client = (user: string, sql: string, o: Parameters<typeof mysqlClient>[3] = {}) => {
    const c = mysqlClient(m.gw.port, user, sql, o);
    void c.done.then((r) => runs.push(r));
    return c;
  };

  before(async () => {
    m = await mysqlEnv();
  });
  after(async () => {
    await m?.stop();
  });

  test('a login held for approval goes through once approved; the query runs on the device', async () => {
    const c = client('alice@mdb01', 'select current_user(), @@version_comment', { db: 'app' });
    const id = await waitingRequest(m.s, 'alice');
    await m.s.approvals.approve(id, 'bob', { ...OPERATOR, comment: 'ok' });
    const r = await c.done;
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^app_rw@/);
    // The grant now stands: the next connection goes straight through.
    const again = await client('alice@app_rw@mdb01', 'select 41 + 1').done;
    assert.equal(again.out.trim(), '42', again.err);
  });

  test('a rejection ends the login with the comment', async () => {
    const c = client('dave@mdb01', 'select 1');
    const id = await waitingRequest(m.s, 'dave');
    await m.s.approvals.reject(id, 'bob', { ...OPERATOR, comment: 'not during the freeze' });
    const r = await c.done;
    assert.notEqual(r.code, 0);
    assert.match(r.err, new RegExp(`Request #${id} was rejected by .*bob.*: not during the freeze`));
  });

  test('wrong password, unknown device and forbidden device get one answer', async () => {
    const wrong = await client('alice@mdb01', 'select 1', { password: 'nope' }).done;
    const unknown = await client('alice@nosuch', 'select 1').done;
    const forbidden = await client('frank@mdb01', 'select 1').done;
    const text = (r: ClientRun) => r.err.replace(/'[^']*'/, "'X'").trim();
    assert.match(wrong.err, /ERROR 1045 .*Access denied/);
    assert.equal(text(unknown), text(wrong));
    assert.equal(text(forbidden), text(wrong));
  });

  test('TLS is required: a plain client is told which option to use', async () => {
    const r = await client('alice@mdb01', 'select 1', { extra: ['--skip-ssl'] }).done;
    assert.notEqual(r.code, 0);
    assert.match(r.err, /requires TLS.*--ssl/);
  });

  test('revoking the grant closes the live session within a second or so', async () => {
    const c = client('alice@mdb01', 'select sleep(30)');
    await waitFor('the session', async () => (await m.s.apiStore.listSessions({ live: true, limit: 5 })).length > 0, 20_000, 50);
    const grant = (await m.s.store.listRequests({ status: 'approved', limit: 10 })).find((r) => r.protocol === 'mysql')!;
    const t0 = Date.now();
    await m.s.approvals.revoke(grant.id, 'bob', { ...OPERATOR, comment: 'incident over' });
    const r = await c.done;
    // One second in the product; the bound is generous for a busy test machine.
    assert.ok(Date.now() - t0 < 5000, `closed after ${Date.now() - t0} ms`);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /ERROR 1927 .*Gatehouse closed the session: access revoked: incident over/);
  });

  test('statements are recorded with row counts and errors; the vaulted password is never shown', async () => {
    const c = client(
      'alice@mdb01',
      'create table if not exists app.t (a int); insert into app.t values (1),(2),(3); select * from app.t; select nosuch',
      {
        db: 'app',
      },
    );
    const id = await waitingRequest(m.s, 'alice');
    await m.s.approvals.approve(id, 'bob', OPERATOR);
    const r = await c.done;
    assert.match(r.err, /Unknown column 'nosuch'/);
    await m.writer.flushed();
    const sessions = await m.s.apiStore.listSessions({ limit: 50 });
    const rows = (await Promise.all(sessions.map((x) => m.s.statements.forSession(x.id, 0, 100)))).flat();
    const insert = rows.find((s) => s.statement.startsWith('insert'));
    assert.equal(insert?.rowCount, 3);
    assert.equal(rows.find((s) => s.statement === 'select * from app.t')?.rowCount, 3);
    assert.match(rows.find((s) => s.statement === 'select nosuch')?.error ?? '', /1054/);
    assert.ok(rows.every((s) => s.protocol === 'mysql' && s.user === 'alice' && s.device === 'mdb01' && s.account === 'app_rw'));
    for (const run of runs) assert.ok(!`${run.out}${run.err}`.includes(MARIADB_PASSWORD));
    assert.ok(m.logs.length > 0);
    for (const secret of [MARIADB_PASSWORD, USER_PASSWORD]) assert.ok(!m.logs.some((l) => l.includes(secret)), 'a password in the log');
    assert.ok(!JSON.stringify(rows).includes(MARIADB_PASSWORD));
  });

  test("the device's TLS: pinned certificate checked, off and require honoured", async () => {
    const set = (mysqlTls: string) => m.s.admin.setDevice(ADMIN, 'mdb01', { options: { mysqlTls } });
    await set('sha256:' + '00:'.repeat(31) + '00');
    const wrong = await client('alice@mdb01', 'select 1').done;
    assert.match(wrong.err, /could not log in to mdb01 as app_rw: the device's certificate does not match its pinned fingerprint/);
    await set(`sha256:${m.db.fingerprint}`);
    assert.equal((await client('alice@mdb01', 'select 3').done).out.trim(), '3');
    // Without TLS the account's password goes as a mysql_native_password scramble.
    await set('off');
    const plain = await client('alice@mdb01', "show session status like 'Ssl_cipher'").done;
    assert.match(plain.out, /^Ssl_cipher\t$/m, plain.err);
    await set('require');
    const tls = await client('alice@mdb01', "show session status like 'Ssl_cipher'").done;
    assert.match(tls.out, /^Ssl_cipher\t\S+/m, tls.err);
    await set('prefer');
  });
});
