// The MySQL gateway with the stock `mysql` client and a real MariaDB behind it: the held login and its
// outcomes (expiry too), one answer for every refusal, TLS required, revocation and the grant's end
// closing the session within a second (by the gateway's own timestamps), the statements recorded, and
// the vaulted password never reaching the user.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hasMariaDb, MARIADB_PASSWORD } from '../../bench/lib/mariadb.js';
import { ADMIN } from '../../bench/lib/services.js';
import { dbOf } from '../helpers/kysely.js';
import { missing } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';
import { approvedWindow, CLOSE_WITHIN_MS, otherProcess, sessionEnd } from '../postgres/session-end.js';
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

  test('expiry ends the held login saying nobody decided in time', async () => {
    const c = client('dave@mdb01', 'select 1');
    const id = await waitingRequest(m.s, 'dave');
    // The deadline brought forward (the shortest one configurable is a minute), then the sweep.
    await dbOf(m.s)
      .updateTable('approval_requests')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', id)
      .execute();
    assert.equal(await m.s.approvals.expireDue(), 1);
    const r = await c.done;
    assert.notEqual(r.code, 0);
    assert.match(r.err, new RegExp(`Request #${id} expired: nobody decided it in time`));
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

  test('revoking the grant: the gateway ends the live session within 1 s of the revocation', async () => {
    const c = client('alice@mdb01', 'select sleep(30)');
    await waitFor('the session', async () => (await m.s.apiStore.listSessions({ live: true, limit: 5 })).length > 0, 20_000, 50);
    const grant = (await m.s.store.listRequests({ status: 'approved', limit: 10 })).find((r) => r.protocol === 'mysql')!;
    // Revoked elsewhere (as from the console in another worker): the gateway hears it by its event poll.
    const other = await otherProcess(m.env.env);
    const t0 = Date.now();
    try {
      await other.approvals.revoke(grant.id, 'bob', { ...OPERATOR, comment: 'incident over' });
    } finally {
      await other.close();
    }
    const r = await c.done;
    const clientMs = Date.now() - t0;
    const end = await sessionEnd(m.s, grant.id);
    console.log(`# the gateway ended the session ${end.lateMs} ms after the revocation (the client exited after ${clientMs} ms)`);
    assert.ok(end.lateMs >= 0 && end.lateMs <= CLOSE_WITHIN_MS, `ended ${end.lateMs} ms after the revocation`);
    assert.match(end.endReason, /access revoked: incident over/);
    // The client's own exit, with room for a loaded machine.
    assert.ok(clientMs < 10_000, `the client exited ${clientMs} ms after the revocation`);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /ERROR 1927 .*Gatehouse closed the session: access revoked: incident over/);
  });

  test("the grant's end: the gateway ends the live session within 1 s of the window's end", async () => {
    const id = await approvedWindow(m.s, 'mdb01', 'mysql', 12_000);
    const r = await client('alice@mdb01', 'select sleep(60)', { timeoutMs: 90_000 }).done;
    const end = await sessionEnd(m.s, id);
    const clientLate = Date.now() - end.grantEnd;
    console.log(`# the gateway ended the session ${end.lateMs} ms after the window (the client exited ${clientLate} ms after it)`);
    assert.ok(end.startedAt < end.grantEnd, 'the session started inside the window');
    assert.ok(end.lateMs >= -100, `ended ${-end.lateMs} ms before the window closed`);
    assert.ok(end.lateMs <= CLOSE_WITHIN_MS, `ended ${end.lateMs} ms after the window`);
    assert.match(end.endReason, /approval window is over/);
    assert.ok(clientLate < 15_000, `the client exited ${clientLate} ms after the window`);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /ERROR 1927 .*approval window is over/);
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
