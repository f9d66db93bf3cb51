// Pure parts of chat approvals: the Slack signature against Slack's documented example, the Mattermost
// button context's HMAC, Block Kit limits with hostile text, and the refusal audit throttle.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { slackSignature } from '../../src/api/routes/chat/slack.js';
import { RefusalThrottle } from '../../src/api/routes/chat/throttle.js';
import { contextSig, verifyContext } from '../../src/notify/chat/mattermost.js';
import { slackBlocks } from '../../src/notify/chat/slack.js';
import { plain, type Card } from '../../src/notify/chat/card.js';
import { checkBlocks } from './fake-slack.js';

describe('chat units', () => {
  test("the Slack signature matches Slack's documented example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    assert.equal(
      slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body),
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  test('a Mattermost context verifies only unchanged and under the right secret', () => {
    const sig = contextSig('s3cret', 'approve', 7, 'k1');
    // A fresh object each time: verifyContext is a type guard, and a narrowed variable would be `never` after it.
    const good = (): Record<string, unknown> => ({ action: 'approve', request: 7, key: 'k1', sig });
    const ctx = good();
    assert.ok(verifyContext('s3cret', ctx));
    assert.ok(!verifyContext('other', ctx));
    assert.ok(!verifyContext('s3cret', { ...good(), request: 8 }));
    assert.ok(!verifyContext('s3cret', { ...good(), action: 'reject' }));
    assert.ok(!verifyContext('s3cret', { ...good(), key: 'k2' }));
    assert.ok(!verifyContext('s3cret', { ...good(), sig: sig.slice(0, -1) }));
    for (const bad of [null, 'x', [], { ...good(), request: '7' }, { ...good(), key: 'k'.repeat(65) }])
      assert.ok(!verifyContext('s3cret', bad));
  });

  test('hostile text stays inside Block Kit limits and mrkdwn is escaped', () => {
    const long = `<!channel> <@U1|x> & ${'é'.repeat(5000)}\u0000\u001b[31m\u202e`;
    const c: Card = {
      requestId: 1,
      title: plain(long, 400),
      fields: Array.from({ length: 12 }, (_, i) => [`F${i}`, plain(long, 4000)] as [string, string]),
      state: long.repeat(2),
      actions: 'decide',
      url: 'https://gw.example.com/approvals/1',
      fallback: long,
    };
    const problems: string[] = [];
    const blocks = slackBlocks(c);
    checkBlocks(blocks, problems);
    assert.deepEqual(problems, []);
    // Slack reads <!channel> and <@U…> as mentions in mrkdwn only; plain_text shows them as typed.
    const mrkdwn = JSON.stringify(blocks).match(/"type":"mrkdwn","text":"[^"]*"/g) ?? [];
    assert.ok(mrkdwn.length > 10);
    assert.ok(
      mrkdwn.every((t) => !t.includes('<!channel>') && !t.includes('<@U1')),
      'no mentions',
    );
    assert.ok(!/[\u0000-\u001f\u202e]/.test(plain(long)), 'no control characters');
  });

  test('refusal audits are throttled per minute', () => {
    const t = new RefusalThrottle(3);
    const at = 1_000_000;
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => t.take(at)),
      [true, true, true, false, false],
    );
    assert.ok(t.take(at + 60_000));
  });
});
