// Login (console session cookie), logout, who am I, and the caller's own API tokens.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentToken, presentUser } from '../../../presenters/index.js';
import { mayApproveSomething } from '../../../core/approvals/approver.js';
import type { Services } from '../../../services.js';
import type { User as UserT } from '../../../core/types.js';
import { SESSION_TTL_MS, deny, sessionCookie } from '../../auth.js';
import { limited } from '../../limited.js';
import { ErrorBody, Nullable, Ok, Token, User, errors } from '../../schemas.js';
import { callerOf, type Ctx, publicHost } from '../context.js';
import { secondFactorStep } from '../second-factor/index.js';

const Me = Type.Object({
  user: User,
  channel: Type.String(),
  csrfToken: Nullable(Type.String()),
  /** What the console shows: admin pages, and Approval Requests for anyone who may approve something. */
  roles: Type.Object({ admin: Type.Boolean(), approver: Type.Boolean() }),
  sshPort: Type.Integer(),
  sshHost: Type.String(),
});

/** May this user approve anything at all? The one answer is core's mayApproveSomething. */
export async function mayApprove(s: Services, u: UserT): Promise<boolean> {
  const now = s.clock.now();
  return mayApproveSomething(await s.policy.current(), u, await s.store.delegationsTo(u.id, now), now);
}

export async function sessionRoutes(app: FastifyInstance, { s, store }: Ctx) {
  const sshHost = publicHost(s);

  const me = async (u: UserT, channel: string, csrf: string | null) => {
    const p = await s.policy.current();
    return { user: presentUser(p, u), channel, csrfToken: csrf, roles: { admin: u.isAdmin, approver: await mayApprove(s, u) }, sshPort: s.config.sshPort, sshHost };
  };

  app.post(
    '/session',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Log in to the console: sets an HttpOnly session cookie and returns the CSRF token',
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 200: Me, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body as { username: string; password: string };
      // Reserved before the check: parallel guesses on any node cannot pass the limit.
      const attempt = await s.limiter.reserve({ kind: 'password', user: username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, username, 'login');
      const user = await s.auth.verifyPassword(username, password);
      if (!user) {
        await s.audit({ actor: username.slice(0, 64), channel: 'web', action: 'auth.login-failed', details: { address: req.ip } });
        return deny(reply, 401, 'unauthenticated', 'wrong username or password');
      }
      await attempt.succeeded();
      const now = s.clock.now();
      if (await secondFactorStep(s, user, req, reply)) return reply;
      const sess = await store.createSession(user.id, req.ip, now, SESSION_TTL_MS);
      await s.audit({ actor: user.username, actorId: user.id, channel: 'web', action: 'auth.login', details: { address: req.ip } });
      reply.header('set-cookie', sessionCookie(s, req, sess.token, SESSION_TTL_MS / 1000));
      return me(user, 'web', sess.csrf);
    },
  );

  app.get('/session', { config: { allow: 'user' }, schema: { tags: ['session'], summary: 'Who is logged in (and the CSRF token for the console)', response: { 200: Me, 401: ErrorBody } } }, async (req) => {
    const c = callerOf(req);
    return me(c.user, c.channel, c.csrf);
  });

  app.delete('/session', { config: { allow: 'user' }, schema: { tags: ['session'], summary: 'Log out', response: { 200: Ok, ...errors } } }, async (req, reply) => {
    const c = callerOf(req);
    if (c.sessionId) await store.deleteSession(c.sessionId);
    await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'auth.logout' });
    reply.header('set-cookie', sessionCookie(s, req, '', 0));
    return { ok: true };
  });

  // ---- API tokens: each user manages their own.
  app.get('/tokens', { config: { allow: 'user' }, schema: { tags: ['tokens'], summary: 'My API tokens (never the token itself)', response: { 200: Type.Object({ items: Type.Array(Token) }), ...errors } } }, async (req) => ({
    items: (await store.listTokens(callerOf(req).user.id)).map(presentToken),
  }));

  app.post(
    '/tokens',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the token is shown once, in this response',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ token: Type.String(), item: Token }), ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { name: string; expiresInDays?: number };
      const now = s.clock.now();
      // A token carries its session's proof: minting with less would launder a missing second factor.
      if (!c.factor && (await s.auth.secondFactorRequired(c.user)))
        return deny(reply, 403, 'second_factor_required', c.channel === 'api' ? 'this token was not made from a session that proved the second factor: it cannot create tokens; create one in the console after signing in with your code' : 'your second factor is required now: sign in again with your code, then create the token');
      const { token, row } = await store.createToken(c.user.id, b.name.trim(), now, b.expiresInDays ? now + b.expiresInDays * 86_400_000 : null, c.factor);
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'token.create', targetType: 'api-token', targetId: row.id, details: { name: row.name, prefix: row.prefix } });
      return reply.status(201).send({ token, item: presentToken(row) });
    },
  );

  app.delete(
    '/tokens/:id',
    { config: { allow: 'user' }, schema: { tags: ['tokens'], summary: 'Revoke one of my API tokens', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: Ok, ...errors } } },
    async (req, reply) => {
      const c = callerOf(req);
      const { id } = req.params as { id: number };
      // Someone else's token looks exactly like a missing one.
      if (!(await store.revokeToken(c.user.id, id, s.clock.now()))) return reply.status(404).send({ error: { code: 'not_found', message: `API token #${id} not found` } });
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'token.revoke', targetType: 'api-token', targetId: id });
      return { ok: true };
    },
  );
}
