// Real end to end: Debian's xfreerdp under Xvfb connects through the gateway with the one-time ticket
// in /load-balance-info and reaches the login screen of Debian's xrdp; a screenshot of the display is
// kept in test-artifacts/; a second use of the same ticket is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { missing } from '../helpers/peers.js';
import { issueTicket } from '../../src/protocols/rdp/index.js';
import { addRdpDevice, auditRows, startGateway, waitUntil, type Gw } from './helpers.js';
import { HAVE_XFREERDP, HAVE_XRDP, runXfreerdp, startXrdp, type Xrdp } from './xrdp.js';
import { dbOf } from '../helpers/kysely.js';

const skip =
  missing('xrdp', HAVE_XRDP, 'apt-get install -y xrdp') ||
  missing('xfreerdp', HAVE_XFREERDP, 'apt-get install -y freerdp2-x11 xvfb xauth imagemagick');
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

describe('RDP gateway with real xfreerdp and xrdp', { skip }, () => {
  let g: Gw;
  let xrdp: Xrdp;
  before(async () => {
    xrdp = await startXrdp();
    g = await startGateway({ opsApproval: false });
    await addRdpDevice(g.s, 'win01', xrdp.port);
  });
  after(async () => {
    await g?.stop();
    await xrdp?.stop();
  });

  test(
    'xfreerdp /load-balance-info:<ticket> reaches the xrdp login screen through the gateway; the ticket works once',
    { timeout: 60_000 },
    async () => {
      const t = await issueTicket(g.s, { username: 'alice', device: 'win01', channel: 'cli' });
      assert.equal(t.outcome, 'allowed');
      const ticket = t.outcome === 'allowed' ? t.ticket : '';
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'rdp-login-through-gateway.png');
      const run = await runXfreerdp({ port: g.port, ticket, xrdp, screenshot: shot });
      assert.notEqual(
        run.loginMs,
        null,
        `no login screen; xfreerdp said:\n${run.output.slice(-2000)}\nxrdp log:\n${xrdp.log().slice(-2000)}`,
      );
      assert.ok(statSync(shot).size > 5000, 'screenshot written');
      // xrdp saw the account's cookie, never the ticket.
      assert.ok(!xrdp.log().includes(ticket.slice(4)), 'the ticket never reaches the device');
      await waitUntil(
        async () => {
          const rows = await dbOf(g.s).selectFrom('sessions').selectAll().where('protocol', '=', 'rdp').execute();
          return rows.length === 1 && rows[0].ended_at !== null && Number(rows[0].bytes_out) > 1000;
        },
        5000,
        'session recorded with its end and bytes',
      );

      const logins = xrdp.logins();
      const again = await runXfreerdp({ port: g.port, ticket, xrdp, timeoutS: 15 });
      assert.equal(again.loginMs, null, 'the second use never reaches xrdp');
      assert.notEqual(again.code, 0, 'xfreerdp fails to connect');
      assert.equal(xrdp.logins(), logins);
      await waitUntil(
        async () => (await auditRows(g.s, 'rdp.refused')).some((r) => r.details.reason === 'ticket used'),
        3000,
        'audited refusal',
      );
    },
  );
});
