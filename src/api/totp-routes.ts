// The TOTP second factor in the console: enrolment with a QR code, the second step of login, and the
// admin's switches (a group requires it; reset a user). Also the directory's status and sync on demand.
//
// Login: POST /session answers 202 {secondFactor: 'required' | 'enrol', ticket} instead of a session when
// the user needs a second factor (see secondFactorStep). The ticket is good for 5 minutes and 5 tries:
// POST /session/second-factor {ticket, code} then creates the session. A user a group requires to use it
// but who has not enrolled yet gets the QR code from POST /session/second-factor/enrol {ticket} first.
// Tickets live in this process's memory: behind a load balancer, keep a user's login on one node.
// Every code check (login step, enrolment, turning it off) first reserves an attempt in the shared
// login limiter (core/limiter.ts): 5 codes per user in 15 minutes on all nodes, then 429.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { User as UserT } from '../core/types.js';
import { directoryOf } from '../directory/index.js';
import { presentUser } from '../presenters/index.js';
import type { Services } from '../services.js';
import { SESSION_TTL_MS, deny, sessionCookie } from './auth.js';
import { limited } from './limited.js';
import { mayApprove } from './routes/session.js';
import { callerOf } from './routes/context.js';
import { ErrorBody, Ok, errors } from './schemas.js';

const TICKET_MS = 5 * 60_000;
const TICKET_TRIES = 5;

interface Pending {
  userId: number;
  addr: string;
  expiresAt: number;
  tries: number;
}

const pendingBy = new WeakMap<Services, Map<string, Pending>>();
const pendingOf = (s: Services) => {
  let m = pendingBy.get(s);
  if (!m) pendingBy.set(s, (m = new Map()));
  return m;
};

/**
 * The hook in POST /session: after a right password, when the user needs a second factor, answers
 * 202 with a ticket instead of creating a session. Returns null when no second factor is needed.
 */
export async function secondFactorStep(s: Services, user: UserT, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | null> {
  if (!(await s.auth.secondFactorRequired(user))) return null;
  const now = s.clock.now();
  const pending = pendingOf(s);
  for (const [k, p] of pending) if (p.expiresAt <= now) pending.delete(k);
  const ticket = randomBytes(24).toString('base64url');
  pending.set(ticket, { userId: user.id, addr: req.ip, expiresAt: now + TICKET_MS, tries: 0 });
  const enrolled = await directoryOf(s).totp.enrolled(user.id);
  await s.audit({ actor: user.username, actorId: user.id, channel: 'web', action: 'auth.login.second-factor-asked', details: { address: req.ip, enrolled } });
  return reply.status(202).send({ secondFactor: enrolled ? 'required' : 'enrol', ticket });
}

export async function registerTotpRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const store = s.apiStore;
  const { totp, directory } = directoryOf(s);
  const Enrolment = Type.Object({ otpauthUrl: Type.String(), secret: Type.String(), qrDataUrl: Type.String() });
  const Code = Type.String({ minLength: 6, maxLength: 32 });
  const sshHost = (() => {
    try {
      return new URL(s.config.publicUrl).hostname;
    } catch {
      return s.config.bind;
    }
  })();

  /** A live ticket for this client, or null (and a spent try counted). */
  const ticketOf = async (ticket: string, req: FastifyRequest): Promise<{ p: Pending; user: UserT } | null> => {
    const p = pendingOf(s).get(ticket);
    if (!p || p.expiresAt <= s.clock.now() || p.addr !== req.ip || p.tries >= TICKET_TRIES) return null;
    const user = (await s.policy.current()).usersById.get(p.userId);
    return user && !user.disabled ? { p, user } : null;
  };

  app.post(
    '/session/second-factor',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Second step of login: the TOTP code (or a recovery code) for the ticket POST /session gave; sets the session cookie',
        body: Type.Object({ ticket: Type.String({ minLength: 10, maxLength: 100 }), code: Code }, { additionalProperties: false }),
        response: { 401: ErrorBody },
      },
    },
    async (req, reply) => {
      const { ticket, code } = req.body as { ticket: string; code: string };
      const t = await ticketOf(ticket, req);
      if (!t) return deny(reply, 401, 'unauthenticated', 'the login has expired: log in again');
      t.p.tries++;
      // Reserved in the shared limiter before the code is checked (per user across tickets and nodes).
      const attempt = await s.limiter.reserve({ kind: 'code', user: t.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, t.user.username, 'code');
      const enrolled = await totp.enrolled(t.user.id);
      // Not enrolled yet (a group requires it): the first code confirms the enrolment.
      const recovery = enrolled ? null : await totp.confirm(t.user, code);
      const ok = enrolled ? await s.auth.verifyTotp(t.user, code) : recovery !== null;
      if (!ok) {
        await s.audit({ actor: t.user.username, actorId: t.user.id, channel: 'web', action: 'auth.second-factor-failed', details: { address: req.ip } });
        return deny(reply, 401, 'unauthenticated', 'wrong code');
      }
      await attempt.succeeded();
      pendingOf(s).delete(ticket);
      const now = s.clock.now();
      const sess = await store.createSession(t.user.id, req.ip, now, SESSION_TTL_MS, true);
      await s.audit({ actor: t.user.username, actorId: t.user.id, channel: 'web', action: 'auth.login', details: { address: req.ip, secondFactor: 'totp', ...(recovery ? { enrolled: true } : {}) } });
      reply.header('set-cookie', sessionCookie(s, req, sess.token, SESSION_TTL_MS / 1000));
      const p = await s.policy.current();
      return {
        user: presentUser(p, t.user),
        channel: 'web',
        csrfToken: sess.csrf,
        roles: { admin: t.user.isAdmin, approver: await mayApprove(s, t.user) },
        sshPort: s.config.sshPort,
        sshHost,
        secondFactor: 'totp',
        ...(recovery ? { recoveryCodes: recovery } : {}),
      };
    },
  );

  app.post(
    '/session/second-factor/enrol',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'During login, for a user a group requires to use a second factor who has none yet: the QR code to scan',
        body: Type.Object({ ticket: Type.String({ minLength: 10, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: Enrolment, 401: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const t = await ticketOf((req.body as { ticket: string }).ticket, req);
      if (!t) return deny(reply, 401, 'unauthenticated', 'the login has expired: log in again');
      // Someone who has a second factor cannot replace it with only a password.
      if (await totp.enrolled(t.user.id)) return reply.status(409).send({ error: { code: 'conflict', message: 'a second factor is already set up: enter its code' } });
      const e = await totp.begin(t.user);
      return { otpauthUrl: e.otpauthUrl, secret: e.secret, qrDataUrl: e.qrDataUrl };
    },
  );

  app.get(
    '/me/second-factor',
    { config: { allow: 'user' }, schema: { tags: ['second factor'], summary: 'My second factor', response: { 200: Type.Object({ enrolled: Type.Boolean(), required: Type.Boolean(), recoveryCodesLeft: Type.Integer() }), ...errors } } },
    async (req) => {
      const u = callerOf(req).user;
      return { enrolled: await totp.enrolled(u.id), required: await totp.requiredByGroup(u), recoveryCodesLeft: await totp.recoveryLeft(u.id) };
    },
  );

  app.post(
    '/me/second-factor',
    { config: { allow: 'user' }, schema: { tags: ['second factor'], summary: 'Start enrolment: a new secret and its QR code (not in force until confirmed)', response: { 200: Enrolment, ...errors } } },
    async (req, reply) => {
      const c = callerOf(req);
      if (c.channel !== 'web') return deny(reply, 403, 'forbidden', 'enrol from the console, not with an API token');
      if (await totp.enrolled(c.user.id)) return reply.status(409).send({ error: { code: 'conflict', message: 'a second factor is already set up: remove it first (with a code)' } });
      const e = await totp.begin(c.user);
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'totp.enrol-started', targetType: 'user', targetId: c.user.id });
      return { otpauthUrl: e.otpauthUrl, secret: e.secret, qrDataUrl: e.qrDataUrl };
    },
  );

  app.post(
    '/me/second-factor/confirm',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['second factor'],
        summary: 'Confirm enrolment with a code from the app; answers the recovery codes, once',
        body: Type.Object({ code: Code }, { additionalProperties: false }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (await totp.enrolled(c.user.id)) return reply.status(409).send({ error: { code: 'conflict', message: 'already enrolled' } });
      const attempt = await s.limiter.reserve({ kind: 'code', user: c.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, c.user.username, 'code');
      const codes = await totp.confirm(c.user, (req.body as { code: string }).code);
      if (codes) await attempt.succeeded();
      if (!codes) return reply.status(400).send({ error: { code: 'invalid', message: 'wrong code: check the app and the clock, then try again', field: 'code' } });
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'totp.enrolled', targetType: 'user', targetId: c.user.id });
      return { recoveryCodes: codes };
    },
  );

  app.delete(
    '/me/second-factor',
    {
      config: { allow: 'user' },
      schema: { tags: ['second factor'], summary: 'Turn my second factor off (needs a current code; not when a group requires it)', body: Type.Object({ code: Code }, { additionalProperties: false }), response: { 200: Ok, ...errors } },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (await totp.requiredByGroup(c.user)) return deny(reply, 403, 'forbidden', 'one of your groups requires a second factor');
      const attempt = await s.limiter.reserve({ kind: 'code', user: c.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, c.user.username, 'code');
      if (!(await s.auth.verifyTotp(c.user, (req.body as { code: string }).code))) return reply.status(400).send({ error: { code: 'invalid', message: 'wrong code', field: 'code' } });
      await attempt.succeeded();
      await totp.disable(c.user.id);
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'totp.disabled', targetType: 'user', targetId: c.user.id });
      return { ok: true };
    },
  );

  app.delete(
    '/users/:username/second-factor',
    { schema: { tags: ['second factor'], summary: "Admin: remove a user's second factor (a lost phone); they enrol again at next login if required", params: Type.Object({ username: Type.String() }), response: { 200: Ok, ...errors } } },
    async (req, reply) => {
      const c = callerOf(req);
      const u = (await s.policy.current()).usersByName.get((req.params as { username: string }).username);
      if (!u) return reply.status(404).send({ error: { code: 'not_found', message: 'user not found' } });
      const removed = await totp.disable(u.id);
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'totp.disabled', targetType: 'user', targetId: u.id, details: { username: u.username, removed } });
      return { ok: true };
    },
  );

  app.put(
    '/user-groups/:name/second-factor',
    {
      schema: {
        tags: ['second factor'],
        summary: "Admin: require (or not) the second factor of a user group's members",
        params: Type.Object({ name: Type.String() }),
        body: Type.Object({ required: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: Type.Object({ group: Type.String(), required: Type.Boolean() }), ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const name = (req.params as { name: string }).name;
      const g = (await s.policy.current()).userGroupsByName.get(name);
      if (!g) return reply.status(404).send({ error: { code: 'not_found', message: `user group '${name}' not found` } });
      const required = (req.body as { required: boolean }).required;
      await directory.store.setSecondFactorGroup(g.id, required, s.clock.now());
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'user-group.second-factor', targetType: 'user-group', targetId: g.id, details: { group: name, required } });
      return { group: name, required };
    },
  );

  app.put(
    '/second-factor/approvers',
    {
      schema: {
        tags: ['second factor'],
        summary: 'Admin: require the second factor of everyone who may approve (asked at console login, so every decision follows it)',
        body: Type.Object({ required: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: Type.Object({ required: Type.Boolean() }), ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const required = (req.body as { required: boolean }).required;
      await directory.store.setApproversNeedSecondFactor(required);
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'second-factor.approvers', details: { required } });
      return { required };
    },
  );

  app.get('/directory', { schema: { tags: ['directory'], summary: 'Admin: the directory settings (never the bind password) and the last sync' } }, async (_req, reply) => {
    const v = await directory.view();
    if (!v) return reply.status(404).send({ error: { code: 'not_found', message: 'no directory is configured (gatehouse directory set)' } });
    return v;
  });

  app.post(
    '/directory/sync',
    { schema: { tags: ['directory'], summary: 'Admin: sync the directory now (or only say what would change)', body: Type.Optional(Type.Object({ dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false })) } },
    async (req, reply) => {
      const c = callerOf(req);
      try {
        return await directory.sync({ username: c.user.username, id: c.user.id, channel: c.channel }, { dryRun: !!(req.body as { dryRun?: boolean } | undefined)?.dryRun });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        const status = e.code === 'not_found' ? 404 : e.code === 'conflict' ? 409 : e.code === 'unavailable' ? 502 : e.code === 'invalid' ? 400 : null;
        if (status === null) throw err;
        return reply.status(status).send({ error: { code: e.code, message: e.message } });
      }
    },
  );
}
