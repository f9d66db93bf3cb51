// A real `ssh -tt` session through the gateway is recorded: the recording's events hold the output, the
// real `asciinema cat` prints the same terminal text, the session row points at it, and a session
// killed mid-way leaves a readable recording.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { ADMIN, startGateway, type Gw } from '../ssh/gateway.js';
import { Recordings } from '../../src/recording/service.js';
import { castOutput, readCast } from '../../src/recording/read.js';
import { hasBinary, missing } from '../helpers/peers.js';
import { dbOf } from '../helpers/kysely.js';

const ASCIINEMA = missing('asciinema', hasBinary('asciinema') && hasBinary('script'), 'apt-get install asciinema');

describe('SSH session recording', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
  });

  const lastSession = async () => dbOf(gw.s).selectFrom('sessions').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  /** The gateway closes the recording, then the session row: wait for the row. */
  const endOfLastSession = async () => {
    for (let i = 0; i < 100; i++) {
      if ((await lastSession()).ended_at) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the session did not end');
  };

  test('an ssh -tt session is recorded with its output and plays back with asciinema cat', async () => {
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    await p.waitFor(/[#$] /);
    p.write('echo recorded-$((6*7))\n');
    await p.waitFor(/recorded-42/);
    p.write('exit\n');
    await p.done;
    await endOfLastSession();
    const row = await lastSession();
    assert.match(row.recording ?? '', /session-\d+\.cast\.gz$/);
    const path = await new Recordings(gw.s).pathOf(row.id);
    assert.ok(path);
    const cast = readCast(path);
    const header = JSON.parse(cast.split('\n')[0]);
    assert.equal(header.version, 2);
    assert.match(castOutput(cast), /recorded-42/);
    assert.doesNotMatch(cast, /"i",/, 'input is not recorded by default');
    if (!ASCIINEMA) {
      const file = join(gw.dir, 'play.cast');
      writeFileSync(file, cast);
      const played = execFileSync('script', ['-qec', `asciinema cat ${file}`, '/dev/null'], {
        env: { ...process.env, LANG: 'C.UTF-8' },
      }).toString();
      const norm = (x: string) => x.replace(/\r+\n/g, '\n');
      assert.equal(norm(played), norm(castOutput(cast)));
      assert.match(played, /recorded-42/);
    }
  });

  test('the API serves the recording to admins only, and the session shows it has one', async () => {
    const base = `http://127.0.0.1:${gw.g.webPort}/api/v1`;
    const login = async (username: string, password: string) => {
      const r = await fetch(`${base}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      assert.equal(r.status, 200);
      return (r.headers.get('set-cookie') ?? '').split(';')[0];
    };
    const admin = await login('admin', 'admin-pass-123');
    const alice = await login('alice', 'alice-S3cret-pass');
    const row = await dbOf(gw.s)
      .selectFrom('sessions')
      .select('id')
      .where('recording', 'is not', null)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const res = await fetch(`${base}/sessions/${row.id}/recording`, { headers: { cookie: admin } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/x-asciicast/);
    assert.match(await res.text(), /recorded-42/);
    assert.equal((await fetch(`${base}/sessions/${row.id}/recording`, { headers: { cookie: alice } })).status, 403);
    const one = (await (await fetch(`${base}/sessions/${row.id}`, { headers: { cookie: admin } })).json()) as { recording: boolean };
    assert.equal(one.recording, true);
    // From an approval to the sessions (and recordings) it let through.
    await dbOf(gw.s).updateTable('sessions').set({ approval_id: 4242 }).where('id', '=', row.id).execute();
    const byApproval = (await (await fetch(`${base}/sessions?approvalId=4242`, { headers: { cookie: admin } })).json()) as {
      items: { id: number; recording: boolean }[];
    };
    assert.deepEqual(
      byApproval.items.map((x) => [x.id, x.recording]),
      [[row.id, true]],
    );
    const none = (await (await fetch(`${base}/sessions?approvalId=999999`, { headers: { cookie: admin } })).json()) as { items: unknown[] };
    assert.deepEqual(none.items, []);
  });

  test('a session killed mid-way leaves a readable recording', async () => {
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    await p.waitFor(/[#$] /);
    p.write('for i in 1 2 3; do echo tick-$i; done; sleep 30\n');
    await p.waitFor(/tick-3/);
    await new Promise((r) => setTimeout(r, 400));
    p.killAll();
    await p.done;
    await endOfLastSession();
    const row = await lastSession();
    const out = castOutput(readCast((await new Recordings(gw.s).pathOf(row.id))!));
    assert.match(out, /tick-1\r?\ntick-2\r?\ntick-3/);
  });

  test('recording.enabled=false records nothing; exec without a PTY is never recorded', async () => {
    const r = await gw.ssh('alice@web01', ['echo plain']).done;
    assert.equal(r.stdout, 'plain\n');
    assert.equal((await lastSession()).recording, null);
    await gw.s.admin.setParam(ADMIN, 'recording.enabled', 'false');
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    await p.waitFor(/[#$] /);
    p.write('exit\n');
    await p.done;
    assert.equal((await lastSession()).recording, null);
    await gw.s.admin.setParam(ADMIN, 'recording.enabled', 'true');
  });
});
