// The wait: a connection that needs approval is held open, another process approves (or rejects)
// through the CLI, and the session starts within 1 s. Expiry, cancel with Ctrl-C, reconnects, the
// reason prompt, and ending live sessions on revoke, at the end of the grant, and by an admin.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, SSHD_SKIP, startSshd, type Running, type Sshd } from './peers.js';
import { ADMIN, cliOk, startGateway, type Gw } from './gateway.js';
import { dbOf } from '../helpers/kysely.js';

describe('ssh proxy: waiting for approval', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: true });
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
  });
  afterEach(async () => {
    // Each test starts with nothing waiting and no grant.
    for (const r of await gw.s.store.listRequests({ status: 'waiting' })) await gw.s.approvals.cancel(r.id, 'admin', 'cli').catch(() => {});
    for (const r of await gw.s.store.listRequests({ status: 'approved' }))
      await gw.s.approvals.revoke(r.id, 'admin', { channel: 'cli' }).catch(() => {});
  });

  const requestId = async (p: Running) => Number(/[Rr]equest #(\d+)/.exec(await p.waitFor(/[Rr]equest #\d+/))![1]);

  /** Approves through the CLI in another process; returns when the CLI reported the approval. */
  async function approveByCli(id: number): Promise<number> {
    const c = gw.cli(['approvals', 'approve', String(id), '--as', 'bob', '--comment', 'ok']);
    await c.waitFor(/approved/, 30_000);
    const at = Date.now();
    assert.equal((await c.done).code, 0);
    return at;
  }

  test('exec waits, shows the request, approvers and expiry on stderr; a CLI approval starts it within 1 s', async () => {
    const p = gw.ssh('alice@web01', ['echo started-$((40+2))']);
    const id = await requestId(p);
    await p.waitFor(/is waiting for Bob Manager \(bob\); it expires at \d\d:\d\d:\d\d UTC \(in (29|30):\d\d\)/);
    assert.match(p.stderr(), /Approver Manager: Bob Manager \(bob\)/);
    assert.equal(p.stdout(), '', 'nothing from the device before approval');
    const approvedAt = await approveByCli(id);
    await p.waitFor(/started-42/);
    const delay = Date.now() - approvedAt;
    assert.ok(delay < 1000, `the session started ${delay} ms after the approval`);
    const r = await p.done;
    assert.equal(r.code, 0);
    assert.match(r.stderr, new RegExp(`Request #${id} approved`));

    // After approval, reconnects go straight through for the grant's window.
    const again = await gw.ssh('alice@web01', ['echo again']).done;
    assert.equal(again.code, 0);
    assert.equal(again.stdout, 'again\n');
    assert.equal(again.stderr, '', 'no waiting the second time');
    const rows = await dbOf(gw.s).selectFrom('sessions').select(['approval_id']).orderBy('id', 'desc').limit(2).execute();
    assert.deepEqual(
      rows.map((x) => x.approval_id),
      [id, id],
      'both sessions are tied to the approval',
    );
  });

  test('sftp waits too (the notice on stderr, which sftp shows) and transfers once approved', async () => {
    const p = launch('sftp', ['-P', String(gw.port), ...gw.opts(), '-b', '-', 'alice@web01@127.0.0.1'], { input: 'cd /tmp\npwd\n' });
    const id = await requestId(p);
    await p.waitFor(/is waiting for Bob Manager \(bob\)/);
    const r0 = await gw.s.approvals.get(id);
    assert.equal(r0!.protocol, 'sftp', 'sftp is its own protocol in the policy');
    await approveByCli(id);
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Remote working directory: \/tmp/);
  });

  test('PTY: a live status line with a countdown; approval opens the shell', async () => {
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    const id = await requestId(p);
    await p.waitFor(new RegExp(`\\[#${id}\\] waiting for Bob Manager \\(bob\\) - expires in (29|30):\\d\\d - press q to cancel`));
    await approveByCli(id);
    await p.waitFor(/[#$] $/);
    p.write('exit 4\n');
    assert.equal((await p.done).code, 4);
  });

  test('reject: the comment is printed without terminal control characters and the client exits non-zero', async () => {
    const p = gw.ssh('alice@web01', ['echo never']);
    const id = await requestId(p);
    const c = await cliOk(gw, ['approvals', 'reject', String(id), '--as', 'bob', '--comment', 'not now\x1b[2J\x1b]0;pwned\x07 sorry']);
    void c;
    const r = await p.done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Request #${id} was rejected by Bob Manager \\(bob\\): not now`));
    assert.match(r.stderr, /sorry/);
    assert.doesNotMatch(r.stderr, /[\x1b\x07]/, 'no escape sequences reach the terminal');
    assert.equal(r.stdout, '');
  });

  test('expiry ends the wait with a clear message', async () => {
    const p = gw.ssh('alice@web01', ['echo never']);
    const id = await requestId(p);
    // Bring the deadline near; the sweeper expires it and the event reaches the waiting connection.
    await dbOf(gw.s)
      .updateTable('approval_requests')
      .set({ expires_at: Date.now() + 300 })
      .where('id', '=', id)
      .execute();
    const r = await p.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Request #${id} expired`));
    assert.equal((await gw.s.approvals.get(id))!.status, 'expired');
  });

  test('Ctrl-C in the PTY cancels the request', async () => {
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    const id = await requestId(p);
    await p.waitFor(/press q to cancel/);
    p.write('\x03');
    const r = await p.done;
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`Request #${id} was cancelled`));
    assert.equal((await gw.s.approvals.get(id))!.status, 'cancelled');
    const audit = await gw.s.adminStore.listAudit({ limit: 5, targetType: 'approval', targetId: String(id) });
    assert.ok(audit.some((a) => a.action === 'approval.cancel' && a.actor === 'alice' && a.channel === 'ssh'));
  });

  test('disconnecting keeps the request waiting; a reconnect reuses it and goes through once approved', async () => {
    const p1 = gw.ssh('alice@web01', ['echo one']);
    const id = await requestId(p1);
    p1.proc.kill('SIGKILL');
    await p1.done;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await gw.s.approvals.get(id))!.status, 'waiting', 'leaving does not cancel');
    const p2 = gw.ssh('alice@web01', ['echo two']);
    assert.equal(await requestId(p2), id);
    await p2.waitFor(/was already waiting/);
    await approveByCli(id);
    const r = await p2.done;
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'two\n');
    const count = await dbOf(gw.s)
      .selectFrom('approval_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', '>=', id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 1, 'one request for both connections');
  });

  test('a reason is prompted for during authentication; a short one is refused; scripts may pass GATEHOUSE_REASON', async () => {
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: true });
    try {
      const askpass = (answer: string) => {
        const f = join(gw.dir, `askpass-${answer.length}.sh`);
        writeFileSync(f, `#!/bin/sh\necho "$1" >> ${f}.log\nprintf '%s\\n' '${answer}'\n`);
        chmodSync(f, 0o755);
        return { env: { SSH_ASKPASS: f, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, log: () => readFileSync(`${f}.log`, 'utf8') };
      };
      const interactive = ['-o', 'BatchMode=no'];

      const short = askpass('abc');
      const s = await gw.ssh('alice@web01', ['echo never'], { env: short.env, extra: interactive }).done;
      assert.equal(s.code, 1);
      assert.match(s.stderr, /reason must be at least 5 characters/);
      assert.match(short.log(), /Reason/);
      assert.equal((await gw.s.store.listRequests({ status: 'waiting' })).length, 0, 'no request with a short reason');

      const good = askpass('deploy 42');
      const p = gw.ssh('alice@web01', ['echo go'], { env: good.env, extra: interactive });
      const id = await requestId(p);
      assert.equal((await gw.s.approvals.get(id))!.reason, 'deploy 42');
      p.proc.kill();
      await p.done;
      await gw.s.approvals.cancel(id, 'alice', 'cli');

      // A script: an empty answer at the prompt defers to -o SetEnv=GATEHOUSE_REASON.
      const empty = askpass('');
      const q = gw.ssh('alice@web01', ['echo go'], {
        env: empty.env,
        extra: [...interactive, '-o', 'SetEnv=GATEHOUSE_REASON="nightly backup 7"'],
      });
      const id2 = await requestId(q);
      assert.equal((await gw.s.approvals.get(id2))!.reason, 'nightly backup 7');
      q.proc.kill();
      await q.done;
    } finally {
      await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: false });
    }
  });

  test('revoking during a live session ends it within 1 s, with a message', async () => {
    const p = gw.ssh('alice@web01', ['echo ready; sleep 60']);
    const id = await requestId(p);
    await approveByCli(id);
    await p.waitFor(/ready/);
    const c = gw.cli(['approvals', 'revoke', String(id), '--as', 'bob', '--comment', 'maintenance over']);
    await c.waitFor(/revoked/, 30_000);
    const at = Date.now();
    const r = await p.done;
    const delay = Date.now() - at;
    assert.ok(delay < 1000, `the session ended ${delay} ms after the revocation`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /access revoked: maintenance over\. The session is closed/i);
    await new Promise((res) => setTimeout(res, 100));
    const row = await dbOf(gw.s).selectFrom('sessions').selectAll().where('approval_id', '=', id).executeTakeFirstOrThrow();
    assert.ok(row.ended_at !== null);
    assert.match(row.end_reason ?? '', /revoked/);
  });

  test("the end of the grant's window ends a live session", async () => {
    // A reservation gives a short, exact window (made in-process: a CLI start-up under load could eat it).
    const now = Date.now();
    const req = await gw.s.approvals.request({
      username: 'alice',
      device: 'web01',
      protocol: 'ssh',
      reason: 'short job',
      channel: 'cli',
      start: now,
      end: now + 8000,
    });
    assert.notEqual(req.outcome, 'allowed');
    const id = req.outcome !== 'allowed' ? req.request.id : 0;
    await gw.s.approvals.approve(id, 'bob', { channel: 'cli' });
    const grantEnd = (await gw.s.approvals.get(id))!.grantEnd!;
    const p = gw.ssh('alice@web01', ['echo ready; sleep 60']);
    await p.waitFor(/ready/);
    const r = await p.done;
    const clientLate = Date.now() - grantEnd;
    // The gateway's own record of the end: not before the window closes, and promptly after it. The
    // bound is generous (a loaded 2-core machine delays timers and the client's exit by seconds).
    const row = await dbOf(gw.s)
      .selectFrom('sessions')
      .select(['ended_at', 'end_reason'])
      .where('approval_id', '=', id)
      .executeTakeFirstOrThrow();
    const late = row.ended_at! - grantEnd;
    console.log(`# session ended ${late} ms after the window (client exited after ${clientLate} ms)`);
    assert.ok(late >= -100, `ended ${-late} ms before the window closed`);
    assert.ok(late < 5000, `ended ${late} ms after the window`);
    assert.ok(clientLate < 15_000, `the client exited ${clientLate} ms after the window`);
    assert.match(row.end_reason ?? '', /window/i);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /approval window is over/i);
  });

  test('an admin can kill a live session', async () => {
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireApproval: false });
    try {
      const p = gw.ssh('alice@web01', ['echo ready; sleep 60']);
      await p.waitFor(/ready/);
      const [id] = gw.s.sessions.ids();
      await gw.s.sessions.requestKill(id, 'ended by an administrator');
      const r = await p.done;
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ended by an administrator/i);
    } finally {
      await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireApproval: true });
    }
  });
});
