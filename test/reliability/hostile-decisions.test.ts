/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies in tests */
// Every decision channel, with the approvers' second factor off and then on: console sessions (started
// with and without the factor, and before the requirement), API tokens (from a factor session, from
// before), email links (no code, wrong code, right code), email replies (real SMTP both ways), escalate,
// revoke, delegates and token minting; the CLI's operator proof. Then: a caller who may not see a
// request gets 403 from every action whatever its status (never "already approved").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { directoryOf } from '../../src/directory/index.js';
import { DB_TARGETS, freshPgDatabase } from '../helpers/db.js';
import { ADMIN, seedOrg } from '../helpers/services.js';
import { Client } from '../api/helpers.js';
import {
  fastMailEnv,
  links,
  replyTo,
  sendTo,
  startGateway,
  startSink,
  SUBJECT,
  waitFor,
  type Gateway,
  type Sink,
} from '../mail/helpers.js';
import { dbOf } from '../helpers/kysely.js';

fastMailEnv();
const PW = 'S3cret-pass';

for (const target of DB_TARGETS)
  describe(`hostile: every decision channel proves the approver second factor (${target.name})`, { skip: target.skip }, () => {
    let sink: Sink;
    let gw: Gateway;
    let pg: Awaited<ReturnType<typeof freshPgDatabase>> | null = null;
    let slot = 0;
    const recovery = new Map<string, string[]>();
    const svc = () => gw.g.services;
    const user = async (name: string) => (await svc().policy.current()).usersByName.get(name)!;
    const status = async (id: number) => (await svc().approvals.get(id))!.status;
    const setRequired = (on: boolean) => directoryOf(svc()).directory.store.setApproversNeedSecondFactor(on);

    before(async () => {
      sink = await startSink();
      pg = target.name === 'postgres' ? await freshPgDatabase() : null;
      gw = await startGateway(sink.port, pg ? { DATABASE_URL: pg.url } : {});
      await seedOrg(svc());
      // hank approves nothing of his own: bob's delegation is his only right.
      const now = Date.now();
      const bob = await user('bob');
      for (const to of ['hank', 'gina'])
        await svc().store.insertDelegation(
          { fromUserId: bob.id, toUserId: (await user(to)).id, startsAt: now - 1000, endsAt: now + 3600_000, reason: 'holiday' },
          { actor: 'bob', actorId: bob.id, channel: 'cli', action: 'delegation.create' },
          now,
        );
    });
    after(async () => {
      await gw?.stop();
      await sink?.close();
      await pg?.drop().catch(() => {});
    });

    /** A new waiting request of alice's (a reservation: never reused), approver bob, delegate hank. */
    async function waiting(): Promise<number> {
      const start = Date.now() + 3600_000 + slot++ * 60_000;
      const r = await svc().approvals.request({
        username: 'alice',
        device: 'web01',
        protocol: 'ssh',
        reason: 'hostile decisions',
        start,
        end: start + 30_000,
        channel: 'web',
      });
      assert.equal(r.outcome, 'waiting');
      return r.outcome === 'waiting' ? r.request.id : -1;
    }
    async function approved(): Promise<number> {
      const id = await waiting();
      await svc().approvals.approve(id, 'admin', { channel: 'cli', proof: 'operator' });
      return id;
    }
    async function plainLogin(name: string): Promise<Client> {
      const c = new Client(gw.web);
      const r = await c.post('/api/v1/session', { username: name, password: PW });
      assert.equal(r.status, 200, `${name} logs in without a code: ${r.text}`);
      c.cookie = r.headers.get('set-cookie')!.split(';')[0];
      c.csrf = r.body.csrfToken;
      return c;
    }
    async function factorLogin(name: string): Promise<Client> {
      const c = new Client(gw.web);
      const r = await c.post('/api/v1/session', { username: name, password: PW });
      assert.equal(r.status, 202, `${name} is asked for the second factor: ${r.text}`);
      assert.equal(r.body.secondFactor, 'required');
      const r2 = await c.post('/api/v1/session/second-factor', { ticket: r.body.ticket, code: recovery.get(name)!.pop() });
      assert.equal(r2.status, 200, r2.text);
      c.cookie = r2.headers.get('set-cookie')!.split(';')[0];
      c.csrf = r2.body.csrfToken;
      return c;
    }
    async function tokenOf(c: Client): Promise<Client> {
      const r = await c.post('/api/v1/tokens', { name: `t${slot++}` });
      assert.equal(r.status, 201, r.text);
      const t = new Client(gw.web);
      t.token = r.body.token;
      return t;
    }
    async function enrol(name: string): Promise<void> {
      const totp = directoryOf(svc()).totp;
      const e = await totp.begin(await user(name));
      const codes = await totp.confirm(await user(name), await generate({ secret: e.secret, epoch: Math.floor(Date.now() / 1000) }));
      assert.ok(codes);
      recovery.set(name, codes);
    }
    const mailOf = (id: number) =>
      waitFor(`bob's mail for #${id}`, () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id)));
    const refusals = async (id: number) =>
      (
        await dbOf(svc())
          .selectFrom('audit_log')
          .selectAll()
          .where('action', '=', 'mail.reply.refused')
          .where('target_id', '=', String(id))
          .execute()
      ).map((r) => JSON.parse(r.details).reason as string);
    const linkPost = (url: string, form: Record<string, string>) =>
      fetch(`${gw.web}${new URL(url).pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });

    // Sessions and tokens made before anyone needed a second factor.
    let bobOld: Client, bobOldToken: Client, hankOld: Client, hankOldToken: Client;

    test('factor not required: every channel decides (console, token, link, reply, delegate revoke/escalate, minting)', async () => {
      await setRequired(false);
      bobOld = await plainLogin('bob');
      bobOldToken = await tokenOf(bobOld);
      hankOld = await plainLogin('hank');
      hankOldToken = await tokenOf(hankOld);
      assert.equal((await hankOld.get('/api/v1/session')).body.roles.approver, true, 'a delegate is an approver in the console');

      assert.equal((await bobOld.post(`/api/v1/approvals/${await waiting()}/approve`, {})).status, 200, 'console');
      assert.equal((await bobOldToken.post(`/api/v1/approvals/${await waiting()}/reject`, { comment: 'no' })).status, 200, 'token');
      assert.equal((await hankOldToken.post(`/api/v1/approvals/${await waiting()}/approve`, {})).status, 200, 'delegate token');
      // Finding 7c: a delegate may revoke and escalate what the delegator may.
      assert.equal((await hankOld.post(`/api/v1/approvals/${await approved()}/revoke`, {})).status, 200, 'delegate revokes');
      assert.equal((await hankOld.post(`/api/v1/approvals/${await waiting()}/escalate`)).status, 200, 'delegate escalates');
      assert.equal((await bobOldToken.post('/api/v1/tokens', { name: 'minted-by-token' })).status, 201, 'a token mints a token');

      const viaLink = await waiting();
      const m = await mailOf(viaLink);
      assert.match(m.parsed.text!, /Or reply to this mail/, 'reply-to-decide is offered');
      const page = await (await fetch(`${gw.web}${new URL(links(m).approve).pathname}`)).text();
      assert.doesNotMatch(page, /name="code"/, 'no code asked');
      assert.equal((await linkPost(links(m).approve, { comment: '' })).status, 200, 'link without code');
      assert.equal(await status(viaLink), 'approved');

      const viaReply = await waiting();
      await sendTo(gw.g.smtpInPort!, replyTo(await mailOf(viaReply), 'bob@example.com', 'APPROVE ok'));
      await waitFor('decided by reply', async () => (await status(viaReply)) === 'approved');
    });

    test('factor required: only proven channels decide; a delegate must log in with the code', async () => {
      await enrol('bob');
      await enrol('hank');
      await setRequired(true);

      // Console: a session from before the requirement must step up.
      const id1 = await waiting();
      const r1 = await bobOld.post(`/api/v1/approvals/${id1}/approve`, {});
      assert.equal(r1.status, 403, r1.text);
      assert.equal(r1.body.error.code, 'second_factor_required');
      for (const [verb, id] of [
        ['reject', id1],
        ['escalate', id1],
        ['revoke', await approved()],
      ] as const) {
        const r = await bobOld.post(`/api/v1/approvals/${id}/${verb}`, {});
        assert.equal(r.status, 403, `${verb}: ${r.text}`);
        assert.equal(r.body.error.code, 'second_factor_required', verb);
      }
      // API tokens from before: no decision, no minting (which would launder the missing factor).
      for (const [verb, id] of [
        ['approve', id1],
        ['reject', id1],
        ['escalate', id1],
        ['revoke', await approved()],
      ] as const) {
        const r = await bobOldToken.post(`/api/v1/approvals/${id}/${verb}`, {});
        assert.equal(r.status, 403, `token ${verb}: ${r.text}`);
        assert.equal(r.body.error.code, 'second_factor_required');
        assert.match(r.body.error.message, /second factor/);
      }
      const mint = await bobOldToken.post('/api/v1/tokens', { name: 'laundered' });
      assert.equal(mint.status, 403, mint.text);
      assert.equal(mint.body.error.code, 'second_factor_required');
      assert.equal(await status(id1), 'waiting', 'nothing was decided');

      // A delegate without a second factor is sent to enrol at login (a delegation makes an approver).
      const gina = await new Client(gw.web).post('/api/v1/session', { username: 'gina', password: PW });
      assert.equal(gina.status, 202, gina.text);
      assert.equal(gina.body.secondFactor, 'enrol');
      // The delegate: a code at login now, and the old session and token cannot decide.
      assert.equal((await hankOld.post(`/api/v1/approvals/${id1}/approve`, {})).status, 403);
      assert.equal((await hankOldToken.post(`/api/v1/approvals/${id1}/approve`, {})).status, 403);
      const hank = await factorLogin('hank');
      assert.equal((await hank.post(`/api/v1/approvals/${await approved()}/revoke`, {})).status, 200, 'proven delegate revokes');
      assert.equal((await hank.post(`/api/v1/approvals/${await waiting()}/escalate`)).status, 200, 'proven delegate escalates');
      assert.equal((await hank.post(`/api/v1/approvals/${await waiting()}/approve`, {})).status, 200, 'proven delegate approves');

      // A session started with the factor decides; a token made from it decides and mints.
      const bob = await factorLogin('bob');
      assert.equal((await bob.post(`/api/v1/approvals/${id1}/approve`, {})).status, 200);
      const tok = await tokenOf(bob);
      assert.equal((await tok.get('/api/v1/tokens')).body.items.find((t: any) => t.secondFactor === true) !== undefined, true);
      assert.equal((await tok.post(`/api/v1/approvals/${await waiting()}/reject`, { comment: 'no' })).status, 200);
      assert.equal((await tok.post(`/api/v1/approvals/${await approved()}/revoke`, {})).status, 200);
      assert.equal((await tok.post('/api/v1/tokens', { name: 'from-proven-token' })).status, 201);

      // Auto-approval is the requester deciding: an old token cannot get it, a proven one can.
      await svc().admin.addMember(ADMIN, 'ops', 'bob');
      await svc().admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'true');
      const ask = { device: 'db01', protocol: 'ssh', reason: 'auto-approve check' };
      const oldAsk = await bobOldToken.post('/api/v1/approvals', ask);
      assert.equal(oldAsk.status, 403, oldAsk.text);
      assert.equal(oldAsk.body.error.code, 'second_factor_required');
      const provenAsk = await tok.post('/api/v1/approvals', ask);
      assert.ok(provenAsk.status === 201 || provenAsk.status === 200, provenAsk.text);
      assert.equal(provenAsk.body.outcome, 'approved');
      await svc().admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'false');
      await svc().admin.addMember(ADMIN, 'ops', 'bob', true);

      // The CLI passes the operator's proof: exempt.
      assert.equal((await svc().approvals.approve(await waiting(), 'bob', { channel: 'cli', proof: 'operator' })).status, 'approved');
      // A caller that forgets to say what it proved proves nothing.
      await assert.rejects(
        svc().approvals.approve(await waiting(), 'bob', { channel: 'api' }),
        (e: any) => e.code === 'second_factor_required',
      );
    });

    test('factor required: the email link asks for the code; no code and a wrong code decide nothing', async () => {
      const id = await waiting();
      const m = await mailOf(id);
      assert.doesNotMatch(m.parsed.text!, /Or reply to this mail/, 'the mail does not offer reply-to-decide');
      assert.match(m.parsed.text!, /Replying to this mail cannot\s+decide/);
      const { approve } = links(m);
      const page = await (await fetch(`${gw.web}${new URL(approve).pathname}`)).text();
      assert.match(page, /name="code"/, 'the confirm page asks for the code');
      const none = await linkPost(approve, { comment: '' });
      assert.equal(none.status, 403);
      assert.match(await none.text(), /code/);
      const wrong = await linkPost(approve, { comment: '', code: '000000' });
      assert.equal(wrong.status, 401);
      assert.equal(await status(id), 'waiting');
      const right = await linkPost(approve, { comment: 'with code', code: recovery.get('bob')!.pop()! });
      assert.equal(right.status, 200, await right.text());
      assert.equal(await status(id), 'approved');
      const d = (await svc().store.decisions(id)).at(-1)!;
      assert.equal(d.channel, 'email-link');
    });

    test('factor required, link needs login: the form is no password oracle (missing or wrong code reads alike)', async () => {
      const op = { username: 'admin', id: null, channel: 'cli' as const };
      await svc().admin.setParam(op, 'approval.email.link.requires.login', 'true');
      try {
        const id = await waiting();
        const { approve } = links(await mailOf(id));
        const answer = async (form: Record<string, string>) => {
          const r = await linkPost(approve, { comment: '', username: 'bob', ...form });
          return `${r.status} ${await r.text()}`;
        };
        assert.equal(
          await answer({ password: PW }),
          await answer({ password: 'wrong-Pass-1' }),
          'no code: the same page for right and wrong passwords',
        );
        assert.equal(
          await answer({ password: PW, code: '000000' }),
          await answer({ password: 'wrong-Pass-2', code: '000000' }),
          'wrong code: the same page for right and wrong passwords',
        );
        assert.equal(await status(id), 'waiting');
        const ok = await linkPost(approve, { comment: '', username: 'bob', password: PW, code: recovery.get('bob')!.pop()! });
        assert.equal(ok.status, 200, await ok.text());
        assert.equal(await status(id), 'approved');
      } finally {
        await svc().admin.setParam(op, 'approval.email.link.requires.login', 'false');
      }
    });

    test('factor required: an email reply is refused, audited and answered with the reason', async () => {
      const id = await waiting();
      await sendTo(gw.g.smtpInPort!, replyTo(await mailOf(id), 'bob@example.com', 'APPROVE please'));
      await waitFor('refusal audited', async () => (await refusals(id)).length > 0);
      assert.match((await refusals(id))[0], /second factor/);
      const answer = await waitFor('explaining reply', () =>
        sink.to('bob@example.com').find((m) => m.parsed.subject === `Re: ${SUBJECT(id)}`),
      );
      assert.match(answer.parsed.text!, /second factor/);
      assert.match(answer.parsed.text!, /link|console/);
      assert.equal(await status(id), 'waiting');
    });

    test('finding 6: a caller who may not see a request gets 403 from every action, whatever its status', async () => {
      await setRequired(false);
      const carol = await plainLogin('carol'); // manages device groups, not ops: alice's requests are not hers
      const bob = await factorLogin('bob');
      const done = await approved();
      const open = await waiting();
      const rejected = await waiting();
      await svc().approvals.reject(rejected, 'admin', { channel: 'cli', proof: 'operator' });
      for (const id of [done, open, rejected]) {
        assert.equal((await carol.get(`/api/v1/approvals/${id}`)).status, 403, `GET #${id}`);
        for (const verb of ['approve', 'reject', 'cancel', 'revoke', 'escalate']) {
          const r = await carol.post(`/api/v1/approvals/${id}/${verb}`, verb === 'cancel' || verb === 'escalate' ? undefined : {});
          assert.equal(r.status, 403, `${verb} #${id} (${await status(id)}): ${r.text}`);
          assert.doesNotMatch(r.text, /already|approved|rejected|expired|revoked/, `${verb} #${id} reveals nothing`);
        }
      }
      // A missing request answers 404 to everyone, as GET does.
      for (const verb of ['approve', 'reject', 'cancel', 'revoke', 'escalate'])
        assert.equal(
          (await carol.post(`/api/v1/approvals/999999/${verb}`, verb === 'cancel' || verb === 'escalate' ? undefined : {})).status,
          404,
        );
      // Someone who may see it still learns its state.
      const again = await bob.post(`/api/v1/approvals/${done}/approve`, {});
      assert.equal(again.status, 409);
      assert.match(again.text, /already approved/);
    });
  });
