// Who is calling: a console session (cookie + CSRF token on every state-changing request) or an API
// token (Bearer). One request hook authenticates and applies the route's rule from policy.ts.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { isAdmin, type Caller, type Rule } from './policy.js';
import type { ApiStore } from './store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's rule (policy.ts). Routes without one are for admins only. */
    allow?: Rule;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
}

export const SESSION_COOKIE = 'gh_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_TTL_MS = 12 * 3600_000;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function cookies(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** Secure when the console is reached over TLS (directly, or as the public URL says). */
export function sessionCookie(s: Services, req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' || s.config.publicUrl.startsWith('https:');
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function deny(reply: FastifyReply, status: 401 | 403, code: string, message: string) {
  return reply.status(status).send({ error: { code, message } });
}

export function installAuth(app: FastifyInstance, s: Services, store: ApiStore): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req, reply) => {
    // What a caller changed through one worker or node, the next call sees through any other.
    if (await s.policy.fresh()) s.params.invalidate();
    const rule: Rule = req.routeOptions.config?.allow ?? 'admin';
    const caller = await authenticate(s, store, req);
    req.caller = caller;
    if (rule === 'public') return;
    if (!caller) return deny(reply, 401, 'unauthenticated', 'log in first (console session or Bearer API token)');
    if (caller.sessionId && !SAFE.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !caller.csrf || !same(sent, caller.csrf))
        return deny(reply, 403, 'csrf', `missing or wrong ${CSRF_HEADER} header: reload the console and try again`);
    }
    if (rule === 'admin' && !isAdmin(caller)) return deny(reply, 403, 'forbidden', 'only administrators may do this');
  });
}

async function authenticate(s: Services, store: ApiStore, req: FastifyRequest): Promise<Caller | null> {
  const now = s.clock.now();
  const auth = req.headers.authorization;
  let userId: number;
  let base: Omit<Caller, 'user'>;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S{10,200})$/i.exec(auth);
    const t = m ? await store.findToken(m[1], now) : undefined;
    if (!t) return null;
    userId = t.userId;
    base = { channel: 'api', sessionId: null, csrf: null, factor: t.secondFactor };
  } else {
    const token = cookies(req)[SESSION_COOKIE];
    const sess = token && token.length <= 200 ? await store.findSession(token, now) : undefined;
    if (!sess) return null;
    userId = sess.userId;
    base = { channel: 'web', sessionId: sess.id, csrf: sess.csrf, factor: sess.secondFactor };
  }
  const p = await s.policy.current();
  const user = p.usersById.get(userId);
  if (!user || user.disabled) return null;
  return { user, ...base };
}
