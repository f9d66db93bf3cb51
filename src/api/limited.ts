// The console's answer to an attempt the login limiter refused: 429 with Retry-After, nothing checked.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { waitWords, type Refusal } from '../core/limiter.js';
import type { Services } from '../services.js';

export async function limited(
  s: Services,
  req: FastifyRequest,
  reply: FastifyReply,
  r: Refusal,
  user: string | null,
  what: 'login' | 'code',
) {
  // Once per key and window: a flood of refused attempts must not flood the audit log.
  if (r.first)
    await s.audit({
      actor: (user ?? '-').slice(0, 64),
      channel: 'web',
      action: 'auth.login-blocked',
      details: { address: req.ip, scope: r.scope, kind: what, retryAfterSeconds: Math.ceil(r.retryAfterMs / 1000) },
    });
  const seconds = Math.ceil(r.retryAfterMs / 1000);
  reply.header('retry-after', String(seconds));
  const why = what === 'code' ? 'wrong codes' : 'failed logins';
  return reply.status(429).send({
    error: {
      code: 'rate_limited',
      message: `too many ${why} ${r.scope === 'user' ? 'for this user' : r.scope === 'link' ? 'through this link' : 'from your address'}: try again in ${waitWords(r.retryAfterMs)}`,
    },
  });
}
