// A process killed (SIGKILL) between the commit and the send loses no mail and sends none twice:
// once right after the request committed (before any outbox row), once in the middle of the SMTP send.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices } from '../../src/services.js';
import { mailDb } from '../helpers/kysely.js';
import { seedOrg } from '../helpers/services.js';
import { fastMailEnv, sleep, startGateway, startSink, SUBJECT, waitFor, type Gateway, type Sink } from './helpers.js';

fastMailEnv();
const CHILD = fileURLToPath(new URL('./child-gateway.ts', import.meta.url));

function runChild(env: Record<string, string>): { committed: Promise<number>; exited: Promise<NodeJS.Signals | null>; kill(): void } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const committed = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /committed (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`child exited before committing: ${out}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  committed.catch(() => {});
  return { committed, exited, kill: () => child.kill('SIGKILL') };
}

describe('crash between commit and send', () => {
  let sink: Sink;
  let gw: Gateway;
  let hole: Server;
  const held: Socket[] = [];
  before(async () => {
    sink = await startSink();
    gw = await startGateway(sink.port);
    await seedOrg(gw.g.services);
    await gw.g.stop();
    // An SMTP server that accepts the connection and never says a word: the send hangs mid-way.
    hole = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    for (const s of held) s.destroy();
    hole?.close();
    await gw?.stop();
    await sink?.close();
  });

  test('SIGKILL after commit, and SIGKILL during the send: each mail arrives exactly once after restart', async () => {
    const base = { ...gw.env, GATEHOUSE_LOG_LEVEL: 'silent' };
    // 1. Killed right after the request committed; no mail code ran in that process.
    const a = runChild({ ...base, GH_CHILD_MODE: 'commit-only', GH_CHILD_REQUEST: 'alice:web01' });
    const idA = await a.committed;
    assert.equal(await a.exited, 'SIGKILL');

    // 2. The whole gateway; killed while its worker is inside the SMTP conversation.
    const holePort = (hole.address() as AddressInfo).port;
    const b = runChild({
      ...base,
      GH_CHILD_MODE: 'serve',
      GH_CHILD_REQUEST: 'dave:web01',
      GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${holePort}`,
      GATEHOUSE_SMTP_IN_PORT: '',
      GATEHOUSE_MAIL_LEASE_MS: '1500',
    });
    const idB = await b.committed;
    const s = await openServices(loadConfig(base), makeLogger('silent'));
    try {
      await waitFor(
        'the child to be mid-send',
        async () => {
          const rows = await mailDb(s).selectFrom('mail_outbox').select(['request_id', 'status']).execute();
          return rows.length === 2 && rows.some((r) => r.status === 'sending');
        },
        20_000,
      );
      // The first request's mail was built by this child too: its event was committed before it started.
      b.kill();
      assert.equal(await b.exited, 'SIGKILL');
      assert.equal(sink.messages.length, 0, 'nothing sent yet');
    } finally {
      await s.close();
    }

    // 3. Restart with a working SMTP server.
    await gw.restart({ GATEHOUSE_MAIL_LEASE_MS: '1500' });
    await waitFor('both approver mails', () => sink.messages.length >= 2, 15_000);
    await sleep(2500);
    assert.equal(sink.to('bob@example.com').filter((m) => m.parsed.subject === SUBJECT(idA)).length, 1);
    assert.equal(sink.to('bob@example.com').filter((m) => m.parsed.subject === SUBJECT(idB)).length, 1);
    assert.equal(sink.messages.length, 2, 'no duplicates');
  });
});
