// The chat outbox: a Slack outage (500s, then connections reset) loses nothing and is retried with
// growing gaps, without posting anything twice; two nodes on one PostgreSQL database, both building and
// sending at once, post each message once and update it once per change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { PG_SKIP } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { setSlack } from '../../src/notify/chat/settings.js';
import { buildChatJobs, CHAT_DEFAULTS, ChatWorker, type ChatOptions } from '../../src/notify/chat/worker.js';
import { shown, startFakeSlack, type FakeSlack } from './fake-slack.js';

const FAST: ChatOptions = { ...CHAT_DEFAULTS, pollMs: 50, leaseMs: 10_000, retryBaseMs: 150, retryMaxMs: 1000, maxAttempts: 50 };
const USERS = { 'bob@example.com': 'UBOB0001', 'alice@example.com': 'UALICE01', 'dave@example.com': 'UDAVE001' };
const SECRET = '0123456789abcdef0123456789abcdef';

describe('chat outbox during a Slack outage (SQLite)', () => {
  let t: TestEnv;
  let slack: FakeSlack;
  let worker: ChatWorker;
  before(async () => {
    t = await testServices('sqlite', { real: true });
    await seedOrg(t.s, { opsApproval: true });
    slack = await startFakeSlack(USERS);
    await setSlack(t.s, ADMIN, { botToken: slack.token, signingSecret: SECRET, apiUrl: slack.url });
    worker = new ChatWorker(t.s, FAST);
  });
  after(async () => {
    await worker?.stop();
    await slack?.close();
    await t?.cleanup();
  });

  test('nothing is lost; retries back off; nothing is posted twice; the token never reaches the log', async () => {
    await buildChatJobs(t.s); // the cursor starts at the end of the log: history is not replayed
    slack.mode = '500';
    const r = await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'outage', channel: 'ssh' });
    assert.equal(r.outcome, 'waiting');
    const id = r.outcome === 'waiting' ? r.request.id : 0;
    worker.start();
    await waitFor('the first failures are recorded', async () => (await t.s.chat.stats('slack')).lastError?.includes('500'), 10_000);
    slack.mode = 'reset';
    await sleep(800);
    const failing = await t.s.chat.stats('slack');
    assert.equal(failing.queued, 1, 'still queued, not given up');
    assert.ok(!String(failing.lastError).includes(slack.token));
    await t.s.approvals.approve(id, 'bob', { channel: 'web' });
    slack.mode = 'up';
    const out = await waitFor('the requester hears', () => slack.dmsTo('UALICE01')[0], 15_000);
    assert.match(shown(out), /Approved by bob in the console/);
    // Bob's DM was never posted while the request waited and Slack was down: it is not posted late either.
    await sleep(500);
    assert.equal(slack.dmsTo('UALICE01').length, 1, 'the outcome once');
    assert.equal(slack.messages.length, slack.dmsTo('UBOB0001').length + 1);
    assert.ok(slack.dmsTo('UBOB0001').length <= 1);
    const attempts = slack.calls.length;
    assert.ok(attempts < 60, `retries back off (${attempts} calls)`);
    assert.deepEqual(await t.s.chat.stats('slack'), { queued: 0, failed: 0, lastError: null });
    assert.deepEqual(slack.problems, []);
  });

  test('a restart mid-outage resumes from the outbox', async () => {
    slack.mode = '500';
    const r = await t.s.approvals.request({ username: 'dave', device: 'web01', protocol: 'ssh', reason: 'restart', channel: 'ssh' });
    const id = r.outcome === 'waiting' ? r.request.id : 0;
    await worker.kick();
    await worker.stop();
    await t.restart();
    slack.mode = 'up';
    worker = new ChatWorker(t.s, FAST);
    worker.start();
    const m = await waitFor('the DM after restart', () => slack.dmsTo('UBOB0001').find((x) => shown(x).includes(`#${id}`)), 15_000);
    assert.ok(m);
  });
});

describe('chat outbox on two nodes sharing PostgreSQL', { skip: PG_SKIP }, () => {
  let t: TestEnv;
  let b: Services;
  let slack: FakeSlack;
  const workers: ChatWorker[] = [];
  before(async () => {
    t = await testServices('postgres', { real: true });
    b = await openServices(loadConfig({ ...t.env, GATEHOUSE_NODE_ID: 'node-b' }), makeLogger('silent'));
    await seedOrg(t.s, { opsApproval: true });
    slack = await startFakeSlack(USERS);
    await setSlack(t.s, ADMIN, { botToken: slack.token, signingSecret: SECRET, apiUrl: slack.url });
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await slack?.close();
    await b?.close();
    await t?.cleanup();
  });

  test('each message posted once, each decision shown on it', async () => {
    await buildChatJobs(t.s);
    for (const s of [t.s, b, t.s, b]) {
      const w = new ChatWorker(s, { ...FAST, pollMs: 20 });
      w.start();
      workers.push(w);
    }
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const s = i % 2 ? b : t.s;
      const who = i % 2 ? 'alice' : 'dave';
      const r = await s.approvals.request({ username: who, device: 'web01', protocol: 'ssh', reason: `r${i}`, channel: 'ssh' });
      assert.equal(r.outcome, 'waiting');
      if (r.outcome !== 'waiting') continue;
      ids.push(r.request.id);
      await waitFor('the DM', () => slack.dmsTo('UBOB0001').find((m) => shown(m).includes(`#${r.request.id}:`)), 15_000);
      await s.approvals.cancel(r.request.id, who, 'cli');
    }
    for (const id of ids)
      await waitFor(
        `#${id} shows cancelled`,
        () => slack.messages.find((m) => shown(m).includes(`#${id}:`) && shown(m).includes('Cancelled')),
        15_000,
      );
    await sleep(1000);
    for (const id of ids) assert.equal(slack.messages.filter((m) => shown(m).includes(`#${id}:`)).length, 1, `#${id} posted once`);
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage').length;
    assert.equal(posts, ids.length);
    assert.deepEqual(slack.problems, []);
  });
});
