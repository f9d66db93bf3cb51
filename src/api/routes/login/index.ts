// Console login (session cookie), logout, and who am I. A user who needs a second factor gets a ticket
// from POST /session instead, and finishes in routes/second-factor.
import type { FastifyInstance } from 'fastify';
import { SESSION_TTL_MS, deny, sessionCookie } from '../../auth.js';
import { limited } from '../../limited.js';
import { ErrorBody, Ok, errors } from '../schema.js';
import { callerOf, type Ctx } from '../context.js';
import { secondFactorStep } from '../second-factor/tickets.js';
import { passwordLoginAllowed } from '../sso/password.js';
import { meView } from './me.js';
import { Credentials, Me } from './schema.js';

export async function loginRoutes(app: FastifyInstance, { s, store }: Ctx) {
  app.post(
    '/session',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Log in to the console: sets an HttpOnly session cookie and returns the CSRF token',
        body: Credentials,
        response: { 200: Me, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body as { username: string; password: string };
      if (!(await passwordLoginAllowed(s, username)))
        return deny(reply, 403, 'password_login_off', 'password login is turned off: sign in with single sign-on');
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
      return meView(s, user, 'web', sess.csrf);
    },
  );

  app.get(
    '/session',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['session'],
        summary: 'Who is logged in (and the CSRF token for the console)',
        response: { 200: Me, 401: ErrorBody },
      },
    },
    async (req) => {
      const c = callerOf(req);
      return meView(s, c.user, c.channel, c.csrf);
    },
  );

  app.delete(
    '/session',
    { config: { allow: 'user' }, schema: { tags: ['session'], summary: 'Log out', response: { 200: Ok, ...errors } } },
    async (req, reply) => {
      const c = callerOf(req);
      if (c.sessionId) await store.deleteSession(c.sessionId);
      await s.audit({ actor: c.user.username, actorId: c.user.id, channel: c.channel, action: 'auth.logout' });
      reply.header('set-cookie', sessionCookie(s, req, '', 0));
      return { ok: true };
    },
  );
}
