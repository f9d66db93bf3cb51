// PostgreSQL through the gateway with the stock psql: the wait is visible (NoticeResponse before
// ReadyForQuery, in a real terminal), approve lets the query run, reject carries the comment, expiry
// says so, revoke and the grant's end close the live session within a second (by the gateway's own
// timestamps), Ctrl-C cancels a running pg_sleep (mapped cancel keys), and a wrong password, an unknown
// device and a forbidden device get one answer. TLS is required by default.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tmux, TMUX_SKIP } from '../ssh/tmux.js';
import { dbOf } from '../helpers/kysely.js';
import { ALICE_PW, APP_RW_PW, PG_PEER_SKIP, launchPsql, psql, startDevice, startGateway, type Device, type Gw } from './peer.js';
import { approvedWindow, CLOSE_WITHIN_MS, otherProcess, sessionEnd } from './session-end.js';

const VAULT_KEY = 'test-vault-key-0123456789abcdef';

const OP = { channel: 'cli', proof: 'operator' } as const;

describe('postgres through the gateway: the wait and its outcomes', { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  before(async () => {
    dev = await startDevice();
    // The event bus at its default interval: the revocation's figure below is the product's.
    gw = await startGateway(dev, { approval: true, env: { GATEHOUSE_EVENT_POLL_MS: '200' } });
  });
  after(async () => {
    await gw?.stop();
    dev?.stop();
  });
  const requestId = (text: string) => Number(/request #(\d+)/.exec(text)![1]);
  let approved = 0;

  test('approve: psql shows who must approve and until when, then the query runs', async () => {
    const p = launchPsql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select current_user as who']);
    const err = await p.waitFor(/request #\d+ waiting/);
    assert.match(err, /NOTICE: +Gatehouse: request #\d+ waiting for approval by Bob Manager \(bob\) until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    approved = requestId(err);
    await gw.s.approvals.approve(approved, 'bob', OP);
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /app_rw/);
    assert.match(r.stderr, /approved; connecting to pgdb01/);
  });

  test('reject: the error carries the comment', async () => {
    const p = launchPsql(gw.port, 'alice@legacy@pgdb01', ALICE_PW, ['-c', 'select 1']);
    const id = requestId(await p.waitFor(/request #\d+ waiting/));
    await gw.s.approvals.reject(id, 'bob', { ...OP, comment: 'not during the freeze' });
    const r = await p.done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`FATAL: +Gatehouse: request #${id} was rejected by Bob Manager \\(bob\\): not during the freeze`));
  });

  test('expiry: the held client is told nobody decided in time', async () => {
    const p = launchPsql(gw.port, 'alice@legacy@pgdb01', ALICE_PW, ['-c', 'select 1']);
    const id = requestId(await p.waitFor(/request #\d+ waiting/));
    // The deadline brought forward (the shortest one configurable is a minute), then the sweep.
    await dbOf(gw.s)
      .updateTable('approval_requests')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', id)
      .execute();
    assert.equal(await gw.s.approvals.expireDue(), 1);
    const r = await p.done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`FATAL: +Gatehouse: request #${id} expired: nobody decided it in time`));
  });

  test('a wrong password, an unknown device and a forbidden device get one answer', async () => {
    const answers = await Promise.all([
      psql(gw.port, 'alice@pgdb01', 'wrong-password', ['-c', 'select 1']),
      psql(gw.port, 'alice@nosuchdb', ALICE_PW, ['-c', 'select 1']),
      psql(gw.port, 'alice@pgdb02', ALICE_PW, ['-c', 'select 1']),
    ]);
    const shown = answers.map((a) => a.stderr.replace(/alice@\w+/g, 'alice@X'));
    assert.ok(answers.every((a) => a.code === 2));
    assert.equal(new Set(shown).size, 1, shown.join('\n'));
    assert.match(shown[0], /FATAL: +Gatehouse: login as "alice@X" failed: wrong password, or no device/);
  });

  test('TLS is required: a plain-text client is told to use sslmode=require', async () => {
    const r = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1'], { conn: 'sslmode=disable' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /requires TLS.*sslmode=require/);
  });

  test('revoke mid-session: the gateway ends it within 1 s of the revocation; the vaulted password is never shown', async () => {
    const p = launchPsql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select pg_sleep(60)'], { timeoutMs: 90_000 });
    await new Promise((r) => setTimeout(r, 300));
    const id = approved;
    for (let i = 0; i < 100 && !(await dev.sql(`select 1 from pg_stat_activity where query like 'select pg_sleep(60)%'`)).rowCount; i++)
      await new Promise((r) => setTimeout(r, 100));
    // Revoked elsewhere (as from the console in another worker): the gateway hears it by its event poll.
    const other = await otherProcess({ GATEHOUSE_DATA_DIR: gw.dir, GATEHOUSE_SECRET_KEY: VAULT_KEY });
    const t0 = Date.now();
    try {
      await other.approvals.revoke(id, 'bob', { ...OP, comment: 'incident closed' });
    } finally {
      await other.close();
    }
    const r = await p.done;
    const clientMs = Date.now() - t0;
    const end = await sessionEnd(gw.s, id);
    console.log(`# the gateway ended the session ${end.lateMs} ms after the revocation (psql exited after ${clientMs} ms)`);
    assert.ok(end.lateMs >= 0 && end.lateMs <= CLOSE_WITHIN_MS, `ended ${end.lateMs} ms after the revocation`);
    assert.match(end.endReason, /access revoked: incident closed/);
    // The client's own exit, with room for a loaded machine.
    assert.ok(clientMs < 10_000, `psql exited ${clientMs} ms after the revocation`);
    assert.match(r.stderr, /access revoked: incident closed/);
    assert.ok(!r.stderr.includes(APP_RW_PW) && !r.stdout.includes(APP_RW_PW));
  });

  test("the grant's end: the gateway ends the session within 1 s of the window's end", async () => {
    const id = await approvedWindow(gw.s, 'pgdb01', 'postgres', 12_000);
    const p = launchPsql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select pg_sleep(60)'], { timeoutMs: 90_000 });
    const r = await p.done;
    const end = await sessionEnd(gw.s, id);
    const clientLate = Date.now() - end.grantEnd;
    console.log(`# the gateway ended the session ${end.lateMs} ms after the window (psql exited ${clientLate} ms after it)`);
    assert.ok(end.startedAt < end.grantEnd, 'the session started inside the window');
    assert.ok(end.lateMs >= -100, `ended ${-end.lateMs} ms before the window closed`);
    assert.ok(end.lateMs <= CLOSE_WITHIN_MS, `ended ${end.lateMs} ms after the window`);
    assert.match(end.endReason, /approval window is over/);
    assert.ok(clientLate < 15_000, `psql exited ${clientLate} ms after the window`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /approval window is over/);
  });
});

describe('postgres through the gateway: psql in a terminal', { skip: PG_PEER_SKIP || TMUX_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  const tm = new Tmux();
  before(async () => {
    dev = await startDevice();
    gw = await startGateway(dev, { approval: true });
  });
  after(async () => {
    tm.kill();
    await gw?.stop();
    dev?.stop();
  });

  test('the waiting text is on screen; after approval Ctrl-C cancels a running pg_sleep', async () => {
    tm.start(`psql "host=127.0.0.1 port=${gw.port} user=alice@pgdb01 dbname=app sslmode=require" -X`, 160, 40, { PGPASSWORD: ALICE_PW });
    const screen = await tm.waitFor(/request #\d+ waiting for approval by Bob Manager/);
    await gw.s.approvals.approve(Number(/request #(\d+)/.exec(screen)![1]), 'bob', OP);
    await tm.waitFor(/app=>/);
    tm.type('select pg_sleep(30) \\g');
    tm.keys('Enter');
    for (let i = 0; i < 100 && !(await dev.sql(`select 1 from pg_stat_activity where query like 'select pg_sleep(30)%'`)).rowCount; i++)
      await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    tm.keys('C-c');
    await tm.waitFor(/canceling statement due to user request/, 10_000);
    assert.ok(Date.now() - t0 < 10_000);
    tm.type('select 40 + 2 as answer \\g');
    tm.keys('Enter');
    await tm.waitFor(/\b42\b/);
    tm.type('\\q');
    tm.keys('Enter');
  });
});
