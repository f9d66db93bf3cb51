// Passkeys (WebAuthn, core/passkeys.ts): my passkeys and enrolment (mine.ts), the login's second step
// (login.ts), and the challenge a console decision asks for when approval.decision.requires.passkey is on.
// The engine verifies the assertion the decision then carries: bound to this user, action and request.
import type { FastifyInstance } from 'fastify';
import { PASSKEY_PARAM, decisionScope, type DecisionAction as Action } from '../../../core/passkeys.js';
import { deny } from '../../auth.js';
import { callerOf, type Ctx } from '../context.js';
import { ById, errors } from '../schema.js';
import { passkeyLoginRoutes } from './login.js';
import { adminPasskeyRoutes, myPasskeyRoutes } from './mine.js';
import { DecisionChallengeIn, WebAuthnOptions } from './schema.js';

export async function passkeyRoutes(app: FastifyInstance, ctx: Ctx) {
  const { s } = ctx;
  myPasskeyRoutes(app, ctx);
  adminPasskeyRoutes(app, ctx);
  passkeyLoginRoutes(app, ctx);

  app.post(
    '/approvals/:id/passkey-options',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['approvals'],
        summary: `WebAuthnOptions for navigator.credentials.get() to confirm one decision on this request (${PASSKEY_PARAM}); single use, 2 minutes`,
        params: ById,
        body: DecisionChallengeIn,
        response: { 200: WebAuthnOptions, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (c.channel !== 'web')
        return deny(reply, 403, 'passkey_required', `${PASSKEY_PARAM}: API tokens cannot carry a passkey; decide in the console`);
      const { id } = req.params as { id: number };
      const { action } = req.body as { action: Action };
      return s.passkeys.assertionOptions(c.user, 'decide', decisionScope(action, id));
    },
  );
}
