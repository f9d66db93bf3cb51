// Approval reports from real decisions, through the CLI: JSON and CSV.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { gh, ghJson } from '../helpers/cli.js';
import { reportCsv, type ApprovalReport } from '../../src/core/reports.js';
import { dbOf } from '../helpers/kysely.js';

describe('approval reports', () => {
  let t: TestEnv;
  before(async () => {
    t = await testServices('sqlite', { real: true });
    await seedOrg(t.s);
    const ask = (u: string, proto: 'ssh' | 'sftp') =>
      t.s.approvals.request({ username: u, device: 'web01', protocol: proto, channel: 'cli', reason: 'report' });
    const a = await ask('alice', 'ssh');
    const b = await ask('dave', 'ssh');
    const c = await ask('alice', 'sftp');
    if (a.outcome === 'allowed' || b.outcome === 'allowed' || c.outcome === 'allowed') throw new Error('expected requests');
    await t.s.approvals.approve(a.request.id, 'bob', { channel: 'cli' });
    await t.s.approvals.reject(b.request.id, 'bob', { channel: 'cli', comment: '=cmd|calc' });
    // c expires: move its deadline into the past.
    await dbOf(t.s)
      .updateTable('approval_requests')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', c.request.id)
      .execute();
    await t.s.close();
  });
  after(async () => {
    t.s = { close: async () => {} } as never;
    await t?.cleanup();
  });

  test('counts per approver, expired requests and most requested devices', async () => {
    const r = await ghJson<ApprovalReport>(['reports', 'approvals', '--since', '-1d'], { env: t.env });
    assert.equal(r.requests, 3);
    assert.equal(r.expired, 1);
    assert.deepEqual(
      r.perApprover.map((a) => [a.approver, a.approved, a.rejected]),
      [['bob', 1, 1]],
    );
    assert.deepEqual(r.topDevices, [{ device: 'web01', requests: 3 }]);
    assert.equal(typeof r.medianMinutesToDecision, 'number');
  });

  test('CSV export, with formula cells neutralised', async () => {
    const csv = await gh(['reports', 'approvals', '--csv'], { env: t.env });
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout, /^section,key,value,extra1,extra2\r\n/);
    assert.match(csv.stdout, /approver,bob,1,1,/);
    const r: ApprovalReport = {
      from: 'a',
      to: 'b',
      requests: 0,
      byStatus: {},
      expired: 0,
      autoApproved: 0,
      medianMinutesToDecision: null,
      perApprover: [],
      topDevices: [{ device: '=HYPERLINK("x")', requests: 1 }],
    };
    assert.match(reportCsv(r), /device,"'=HYPERLINK\(""x""\)",1/);
  });
});
