// The second step of login, with the ticket POST /session gave (tickets.ts): the code, or for a user a
// group requires to use a second factor who has none yet, first the QR code to scan.
import type { FastifyInstance } from 'fastify';
import { directoryOf } from '../../../directory/index.js';
import { presentEnrolment } from '../../../presenters/second-factor.js';
import { SESSION_TTL_MS, deny, sessionCookie } from '../../auth.js';
import { limited } from '../../limited.js';
import type { Ctx } from '../context.js';
import { meView } from '../login/me.js';
import { ErrorBody } from '../schema.js';
import { Enrolment, TicketCode, TicketOnly } from './schema.js';
import { ticketOf, ticketTry, useTicket } from './tickets.js';

const EXPIRED = 'the login has expired: log in again';

export async function secondFactorLoginRoutes(app: FastifyInstance, { s, store }: Ctx) {
  const { totp } = directoryOf(s);

  app.post(
    '/session/second-factor',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Second step of login: the TOTP code (or a recovery code) for the ticket POST /session gave; sets the session cookie',
        body: TicketCode,
        response: { 401: ErrorBody },
      },
    },
    async (req, reply) => {
      const { ticket, code } = req.body as { ticket: string; code: string };
      const t = await ticketTry(s, ticket, req);
      if (!t) return deny(reply, 401, 'unauthenticated', EXPIRED);
      // Reserved in the shared limiter before the code is checked (per user across tickets and nodes).
      const attempt = await s.limiter.reserve({ kind: 'code', user: t.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, t.user.username, 'code');
      const enrolled = await totp.enrolled(t.user.id);
      // Not enrolled yet (a group requires it): the first code confirms the enrolment.
      const recovery = enrolled ? null : await totp.confirm(t.user, code);
      const ok = enrolled ? await s.auth.verifyTotp(t.user, code) : recovery !== null;
      if (!ok) {
        await s.audit({
          actor: t.user.username,
          actorId: t.user.id,
          channel: 'web',
          action: 'auth.second-factor-failed',
          details: { address: req.ip },
        });
        return deny(reply, 401, 'unauthenticated', 'wrong code');
      }
      await attempt.succeeded();
      if (!(await useTicket(s, ticket))) return deny(reply, 401, 'unauthenticated', EXPIRED);
      const sess = await store.createSession(t.user.id, req.ip, s.clock.now(), SESSION_TTL_MS, true);
      await s.audit({
        actor: t.user.username,
        actorId: t.user.id,
        channel: 'web',
        action: 'auth.login',
        details: { address: req.ip, secondFactor: 'totp', ...(recovery ? { enrolled: true } : {}) },
      });
      reply.header('set-cookie', sessionCookie(s, req, sess.token, SESSION_TTL_MS / 1000));
      return { ...(await meView(s, t.user, 'web', sess.csrf)), secondFactor: 'totp', ...(recovery ? { recoveryCodes: recovery } : {}) };
    },
  );

  app.post(
    '/session/second-factor/enrol',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'During login, for a user a group requires to use a second factor who has none yet: the QR code to scan',
        body: TicketOnly,
        response: { 200: Enrolment, 401: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const t = await ticketOf(s, (req.body as { ticket: string }).ticket, req);
      if (!t) return deny(reply, 401, 'unauthenticated', EXPIRED);
      // Someone who has a second factor cannot replace it with only a password.
      if ((await totp.enrolled(t.user.id)) || (await s.passkeys.has(t.user.id)))
        return reply.status(409).send({ error: { code: 'conflict', message: 'a second factor is already set up: enter its code' } });
      return presentEnrolment(await totp.begin(t.user));
    },
  );
}
