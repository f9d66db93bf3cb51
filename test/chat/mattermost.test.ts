// Mattermost approvals against a local fake Mattermost: the approver's DM carries Approve/Reject buttons
// whose context Gatehouse signed; a click decides and the post is updated; a forged or moved context is
// refused and audited; a second click says already approved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Server } from '../api/helpers.js';
import { ADMIN } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { dbOf } from '../helpers/kysely.js';
import { setMattermost } from '../../src/notify/chat/settings.js';
import { clickButton, mmText, startFakeMattermost, type FakeMattermost } from './fake-mattermost.js';

const USERS = { 'bob@example.com': 'ubob', 'alice@example.com': 'ualice', 'carol@example.com': 'ucarol' };

describe('Mattermost approvals', () => {
  let srv: Server;
  let mm: FakeMattermost;
  const s = () => srv.running.services;
  before(async () => {
    mm = await startFakeMattermost(USERS);
    srv = await startServer('sqlite');
    await setMattermost(s(), ADMIN, { url: mm.url, botToken: mm.token });
  });
  after(async () => {
    await srv?.stop();
    await mm?.close();
  });

  test('approve by button; the post is updated; forged context refused; second click already approved', async () => {
    const r = await s().approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'mm', channel: 'ssh' });
    const id = r.outcome === 'waiting' ? r.request.id : 0;
    const post = await waitFor('bob’s DM', () => mm.dmsTo('ubob').find((p) => mmText(p).includes(`#${id}:`)), 15_000);
    const ctx = post.props.attachments[0].actions[0].integration.context;
    assert.equal(ctx.request, id);
    // The buttons point at this Gatehouse; rewrite to the test server's real port.
    for (const a of post.props.attachments[0].actions) a.integration.url = `${srv.base}/api/v1/chat/mattermost/actions`;
    const forged = await clickButton(post, 'approve', 'ubob', { ...ctx, sig: 'f'.repeat(64) });
    assert.equal(forged.status, 403);
    const moved = await clickButton(post, 'approve', 'ubob', { ...ctx, request: id + 1000 });
    assert.equal(moved.status, 403);
    const carol = await clickButton(post, 'approve', 'ucarol');
    assert.match(carol.body.ephemeral_text, /neither yours nor one you may decide/);
    assert.equal((await s().store.getRequest(id))?.status, 'waiting');
    const ok = await clickButton(post, 'approve', 'ubob');
    assert.equal(ok.status, 200);
    assert.match(ok.body.ephemeral_text, /You approved/);
    assert.equal((await s().store.getRequest(id))?.status, 'approved');
    await waitFor('post updated', () => post.updates > 0 && mmText(post).includes('Approved by bob in Mattermost'), 15_000);
    assert.deepEqual(post.props.attachments[0].actions, [], 'no buttons once decided');
    const again = await clickButton(
      {
        ...post,
        props: {
          attachments: [{ actions: [{ id: 'approve', integration: { url: `${srv.base}/api/v1/chat/mattermost/actions`, context: ctx } }] }],
        },
      },
      'approve',
      'ubob',
    );
    assert.match(again.body.ephemeral_text, /already approved by bob in Mattermost/);
    await waitFor('alice hears', () => mm.dmsTo('ualice').length === 1, 15_000);
    const refused = await dbOf(s()).selectFrom('audit_log').select('details').where('action', '=', 'chat.refused').execute();
    const why = refused.map((x) => JSON.parse(x.details ?? '{}').why);
    assert.ok(why.filter((w) => w === 'bad context').length >= 2, why.join(','));
    assert.ok(why.includes('forbidden'), why.join(','));
    assert.deepEqual(mm.problems, []);
  });
});
