// One name everywhere: the CLI's group, user, audit and report output and the mail link pages show a
// person as "Display Name (username)", like the console, SSH and mail; --json keeps what other commands take.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { gh } from '../helpers/cli.js';
import { requestDetails, staleness } from '../../src/api/routes/email-links/view.js';
import type { TokenRow } from '../../src/api/routes/email-links/links.js';

const BOB = 'Bob Manager (bob)';
const ALICE = 'Alice Smith (alice)';

describe('one name everywhere: CLI output and mail link pages', () => {
  let t: TestEnv;
  let env: Record<string, string>;
  let requestId = 0;

  before(async () => {
    t = await testServices('sqlite', { real: true });
    const s = t.s;
    await seedOrg(s);
    await s.admin.setUser(ADMIN, 'bob', { displayName: 'Bob Manager' });
    await s.admin.setUser(ADMIN, 'alice', { displayName: 'Alice Smith' });
    const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'deploy 42', channel: 'ssh' });
    requestId = r.outcome === 'waiting' ? r.request.id : 0;
    await s.approvals.approve(requestId, 'bob', { comment: 'ok', channel: 'cli', proof: 'operator' });
    // The CLI processes open the same SQLite database beside these services.
    env = { ...t.env, GATEHOUSE_LOG_LEVEL: 'silent' };
  });
  after(async () => t?.cleanup());

  const run = async (args: string[]) => {
    const r = await gh(args, { env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  test('group list names managers and members; --json keeps usernames', async () => {
    const out = await run(['group', 'list']);
    const ops = out.split('\n').find((l) => /\bops\b/.test(l))!;
    assert.match(ops, /Bob Manager \(bob\)/);
    assert.match(ops, /Alice Smith \(alice\)/);
    const json = JSON.parse(await run(['group', 'list', '--json'])) as { name: string; managers: string[] }[];
    assert.deepEqual(json.find((g) => g.name === 'ops')?.managers, ['bob']);
  });

  test('add-member and user list say who, by name', async () => {
    assert.match(await run(['group', 'add-member', 'dba', 'alice']), new RegExp(`added ${ALICE.replace(/[()]/g, '\\$&')} to dba`));
    const users = await run(['user', 'list']);
    assert.match(users.split('\n').find((l) => /^\d+\s+alice\b/.test(l)) ?? '', /Bob Manager \(bob\)/);
  });

  test('audit list: the actor by name and details as label: value, not JSON', async () => {
    const out = await run(['audit', 'list', '--action', 'approval.approve']);
    const line = out.split('\n').find((l) => l.includes('approval.approve'))!;
    assert.ok(line, out);
    assert.ok(line.includes(BOB), line);
    assert.match(line, /Comment: ok/);
    assert.doesNotMatch(line, /\{"/);
  });

  test('reports approvals: the approver by name', async () => {
    const out = await run(['reports', 'approvals']);
    assert.match(out, /Bob Manager \(bob\)\s+1\s+0/);
  });

  test('mail link pages: the requester and who decided, by name', async () => {
    const s = t.s;
    const p = await s.policy.current();
    const r = (await s.approvals.get(requestId))!;
    assert.match(requestDetails(p, r), /Alice Smith \(alice\), alice@example\.com/);
    const token = { used_at: null, dead_at: null, level: 0, request_id: requestId } as unknown as TokenRow;
    const [title, body] = staleness(token, r, p)!;
    assert.equal(title, `Request #${requestId} is approved`);
    assert.match(body, /approved by Bob Manager \(bob\) and can no longer be decided/);
  });
});
