// The login's second step with a passkey instead of a TOTP code: for the ticket POST /session gave, the
// options (a challenge bound to that user, for 'login') and then the assertion, which sets the session.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../../../core/errors.js';
import { SESSION_TTL_MS, deny, sessionCookie } from '../../auth.js';
import { limited } from '../../limited.js';
import type { Ctx } from '../context.js';
import { meView } from '../login/me.js';
import { ErrorBody } from '../schema.js';
import { ticketOf, ticketTry, useTicket } from '../second-factor/tickets.js';
import { WebAuthnOptions, TicketPasskeyAssertion, PasskeyTicket } from './schema.js';

const EXPIRED = 'the login has expired: log in again';

export function passkeyLoginRoutes(app: FastifyInstance, { s, store }: Ctx) {
  app.post(
    '/session/passkey/options',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Second step of login with a passkey: options for navigator.credentials.get() for the ticket POST /session gave',
        body: PasskeyTicket,
        response: { 200: WebAuthnOptions, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (req, reply) => {
      const t = await ticketOf(s, (req.body as { ticket: string }).ticket, req);
      if (!t) return deny(reply, 401, 'unauthenticated', EXPIRED);
      return s.passkeys.assertionOptions(t.user, 'login', 'login');
    },
  );

  app.post(
    '/session/passkey',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Second step of login with a passkey: the assertion for the ticket; sets the session cookie',
        body: TicketPasskeyAssertion,
        response: { 401: ErrorBody },
      },
    },
    async (req, reply) => {
      const { ticket, response } = req.body as { ticket: string; response: AuthenticationResponseJSON };
      const t = await ticketTry(s, ticket, req);
      if (!t) return deny(reply, 401, 'unauthenticated', EXPIRED);
      const attempt = await s.limiter.reserve({ kind: 'code', user: t.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, t.user.username, 'code');
      let used;
      try {
        used = await s.passkeys.verify(t.user, 'login', 'login', response, 'passkey login refused');
      } catch (err) {
        if (!(err instanceof GatehouseError)) throw err;
        await s.audit({
          actor: t.user.username,
          actorId: t.user.id,
          channel: 'web',
          action: 'auth.second-factor-failed',
          details: { address: req.ip, via: 'passkey' },
        });
        return deny(reply, 401, 'unauthenticated', 'the passkey was not accepted: try again');
      }
      await attempt.succeeded();
      if (!(await useTicket(s, ticket))) return deny(reply, 401, 'unauthenticated', EXPIRED);
      const sess = await store.createSession(t.user.id, req.ip, s.clock.now(), SESSION_TTL_MS, true);
      await s.audit({
        actor: t.user.username,
        actorId: t.user.id,
        channel: 'web',
        action: 'auth.login',
        details: { address: req.ip, secondFactor: 'passkey', passkey: { name: used.name, credentialId: used.credentialId } },
      });
      reply.header('set-cookie', sessionCookie(s, req, sess.token, SESSION_TTL_MS / 1000));
      return { ...(await meView(s, t.user, 'web', sess.csrf)), secondFactor: 'passkey' };
    },
  );
}
