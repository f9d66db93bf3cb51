// `gatehouse webhook add|list|test|deliveries|remove` through the real launcher (bin/gatehouse.js), against
// a receiver on 127.0.0.1: the generated secret is printed once and signs the ping; bad input exits 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gh } from '../helpers/cli.js';
import { documentedVerify, ok, startReceiver, type Receiver } from './receiver.js';

describe('gatehouse webhook (CLI)', () => {
  let dir: string;
  let env: Record<string, string>;
  let rcv: Receiver;
  const run = (args: string[], input?: string) => gh(args, { env, input, bin: true });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-wh-cli-'));
    env = { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_LOG_LEVEL: 'silent', GATEHOUSE_ADMIN_PASSWORD: 'Adm1n-pass-123' };
    rcv = await startReceiver(ok);
  });
  after(async () => {
    await rcv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('add prints the secret once; list hides it; test pings signed and prints the code; remove', async () => {
    const add = await run(['webhook', 'add', 'tickets', '--url', rcv.url, '--events', 'approval.*,session.ended', '--allow-http']);
    assert.equal(add.code, 0, add.stderr);
    const secret = /signing secret \(shown once; store it in the receiver\): (whsec_\S+)/.exec(add.stdout)?.[1];
    assert.ok(secret, add.stdout);
    const list = await run(['webhook', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /tickets\s+http:\/\/127\.0\.0\.1:\d+\/hook\s+approval\.\*,session\.ended/);
    assert.ok(!list.stdout.includes(secret));
    const json = await run(['webhook', 'list', '--json']);
    assert.ok(!json.stdout.includes(secret) && !json.stdout.includes('v1:'), 'neither the secret nor its sealed form');

    const ping = await run(['webhook', 'test', 'tickets']);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stdout, /^ping whd_[0-9a-f]+ to 'tickets': 200 delivered$/m);
    assert.equal(rcv.got.length, 1);
    assert.equal(rcv.got[0].event, 'ping');
    assert.ok(documentedVerify()(secret, rcv.got[0].signature, rcv.got[0].body));
    const log = await run(['webhook', 'deliveries', '--json']);
    const rows = JSON.parse(log.stdout) as { event: string; status: string; responseCode: number }[];
    assert.deepEqual(
      rows.map((r) => [r.event, r.status, r.responseCode]),
      [['ping', 'delivered', 200]],
    );

    rcv.handler = (_r, res) => res.writeHead(500).end();
    const bad = await run(['webhook', 'test', 'tickets']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /500 failed \(HTTP 500\)/);

    const rm = await run(['webhook', 'remove', 'tickets']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match((await run(['webhook', 'list'])).stdout, /\(none\)/);
    assert.equal((await run(['webhook', 'remove', 'tickets'])).code, 1);
  });

  test('--secret-stdin keeps the given secret and prints none; bad input exits 2 with a reason', async () => {
    const given = 'my-own-secret-0123456789';
    const add = await run(['webhook', 'add', 'own', '--url', 'https://hooks.example.com/x', '--secret-stdin'], given + '\n');
    assert.equal(add.code, 0, add.stderr);
    assert.doesNotMatch(add.stdout, /secret/);
    const dup = await run(['webhook', 'add', 'own', '--url', 'https://hooks.example.com/y']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /webhook 'own' exists/);
    const http = await run(['webhook', 'add', 'plain', '--url', 'http://hooks.example.com/x']);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /plain http is allowed only to 127\.0\.0\.1, localhost or \[::1\], with --allow-http/);
    const ev = await run(['webhook', 'add', 'ev', '--url', 'https://hooks.example.com/x', '--events', 'approval.*,mail.*']);
    assert.equal(ev.code, 2);
    assert.match(ev.stderr, /unknown pattern 'mail\.\*'/);
  });
});
