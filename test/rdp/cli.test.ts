// gatehouse rdp-file as a separate process on the server's database: the .rdp file it prints works
// once through the running gateway; approval needed -> exit 3 naming the approvers; --wait follows
// the decision made elsewhere; no access looks the same for a missing device.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gh } from '../helpers/cli.js';
import { clientConnectionRequest } from '../../src/protocols/rdp/x224.js';
import { addRdpDevice, CONNECTION_CONFIRM, fakeRdpServer, rawClient, startGateway, waitUntil, type FakeRdp, type Gw } from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

describe('gatehouse rdp-file', () => {
  let g: Gw;
  let dev: FakeRdp;
  let env: Record<string, string>;
  before(async () => {
    g = await startGateway({ opsApproval: true });
    dev = await fakeRdpServer();
    await addRdpDevice(g.s, 'rdp01', dev.port);
    env = {
      GATEHOUSE_DATA_DIR: g.dir,
      GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
      GATEHOUSE_RDP_PORT: String(g.port),
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
  });
  after(async () => {
    await dev?.close();
    await g?.stop();
  });

  test(
    'approval needed: exit 3 with the request and its approvers; --wait returns the file once bob approves',
    { timeout: 60_000 },
    async () => {
      const first = await gh(['rdp-file', 'rdp01', '--as', 'alice', '--reason', 'patch tuesday'], { env });
      assert.equal(first.code, 3, first.stderr + first.stdout);
      assert.match(first.stdout, /approval needed: request #\d+ created; approvers: bob/);
      const id = Number(/#(\d+)/.exec(first.stdout)![1]);
      const waiting = gh(['rdp-file', 'rdp01', '--as', 'alice', '--wait', '20', '--json'], { env });
      await new Promise((r) => setTimeout(r, 1000));
      await g.s.approvals.approve(id, 'bob', { channel: 'web' });
      const r = await waiting;
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as { outcome: string; ticket: string; file: string; approval: number; account: string };
      assert.equal(out.outcome, 'allowed');
      assert.equal(out.approval, id);
      assert.equal(out.account, 'Administrator');
      assert.match(out.file, new RegExp(`full address:s:127\\.0\\.0\\.1:${g.port}\\r\\n`));
      assert.match(out.file, new RegExp(`loadbalanceinfo:s:${out.ticket.replace('.', '\\.')}\\r\\n`));
      // The printed file works once through the running gateway.
      const c = await rawClient(g.port);
      c.sock.write(clientConnectionRequest({ routingToken: out.ticket, requestedProtocols: 1 }));
      await c.waitFor(CONNECTION_CONFIRM.length);
      c.sock.destroy();
      await waitUntil(
        async () => (await dbOf(g.s).selectFrom('sessions').select('id').where('approval_id', '=', id).execute()).length === 1,
        3000,
        'session',
      );
    },
  );

  test('plain text output is the .rdp file; no access reads the same for a missing device; only rdp', async () => {
    const ok = await gh(['rdp-file', 'rdp01', '--as', 'alice'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^full address:s:127\.0\.0\.1:\d+\r\nusername:s:Administrator\r\nloadbalanceinfo:s:gh1\./);
    const missing = await gh(['rdp-file', 'nope', '--as', 'alice'], { env });
    const forbidden = await gh(['rdp-file', 'rdp01', '--as', 'frank'], { env });
    assert.equal(missing.code, 1);
    assert.equal(forbidden.code, 1);
    assert.equal(missing.stderr.replace('nope', 'X'), forbidden.stderr.replace('rdp01', 'X'));
    const ssh = await gh(['rdp-file', 'rdp01', '--as', 'alice', '--protocol', 'ssh'], { env });
    assert.equal(ssh.code, 2);
  });
});
