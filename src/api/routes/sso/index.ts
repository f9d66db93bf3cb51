// OpenID Connect login for the console. GET /sso/login?return=… stores a login transaction and sends the
// browser to the provider; GET /sso/callback takes the transaction (once, on any node), checks the answer
// and opens the same console session as a password login, or hands over to the second-factor step.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../../../core/errors.js';
import { safeRedirect } from '../../../core/redirect.js';
import type { User } from '../../../core/types.js';
import type { Services } from '../../../services.js';
import { ssoOf } from '../../../sso/index.js';
import { LOGIN_TTL_MS } from '../../../sso/service.js';
import { SESSION_TTL_MS, cookies, sessionCookie } from '../../auth.js';
import type { Ctx } from '../context.js';
import { issueTicket } from '../second-factor/tickets.js';
import { ssoConfigRoutes } from './config.js';
import { sendSsoFailure } from './page.js';
import { LoginQuery, SsoStatus } from './schema.js';

const BROWSER_COOKIE = 'gh_sso';

/** Binds a login transaction to the browser that started it; Lax, so the provider's redirect back carries it. */
function browserCookie(s: Services, req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' || s.config.publicUrl.startsWith('https:');
  return `${BROWSER_COOKIE}=${value}; Path=/api/v1/sso; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** The second-factor ticket of the password login, handed to the console in the URL fragment (never sent to a server). */
async function secondFactorTicket(s: Services, user: User, req: FastifyRequest): Promise<string | null> {
  const t = await issueTicket(s, user, req, 'sso');
  if (!t) return null;
  const flag = (b: boolean) => (b ? 1 : 0);
  return `sso-second-factor=${t.ticket}&enrol=${flag(!t.enrolled)}&passkey=${flag(t.passkey)}&totp=${flag(t.totp)}`;
}

function failure(reply: FastifyReply, err: unknown) {
  if (!(err instanceof GatehouseError)) throw err;
  const status = { unavailable: 503, not_found: 404, forbidden: 403, conflict: 409 }[err.code as string] ?? 400;
  return sendSsoFailure(reply, status, err.message, err.code === 'unavailable');
}

export async function ssoRoutes(app: FastifyInstance, ctx: Ctx) {
  const { s, store } = ctx;
  const sso = ssoOf(s);

  app.get(
    '/sso/status',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['sso'],
        summary: 'The login page: single sign-on button and whether the password form is on',
        response: { 200: SsoStatus },
      },
    },
    async () => {
      const name = await sso.button();
      return { sso: name ? { name } : null, passwordLogin: (await s.params.params()).bool('login.password.enabled') };
    },
  );

  app.get(
    '/sso/login',
    {
      config: { allow: 'public' },
      schema: { tags: ['sso'], summary: 'Start single sign-on: redirects to the identity provider', querystring: LoginQuery },
    },
    async (req, reply) => {
      const returnTo = safeRedirect((req.query as { return?: string }).return);
      try {
        const { url, browser } = await sso.begin(returnTo, req.ip);
        reply.header('set-cookie', browserCookie(s, req, browser, LOGIN_TTL_MS / 1000));
        return reply.header('cache-control', 'no-store').redirect(url.href, 302);
      } catch (err) {
        s.log.warn({ err: String(err) }, 'SSO login could not start');
        return failure(reply, err);
      }
    },
  );

  app.get(
    '/sso/callback',
    { config: { allow: 'public' }, schema: { tags: ['sso'], summary: "The identity provider's redirect back: finishes single sign-on" } },
    async (req, reply) => {
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      const url = new URL(sso.redirectUri);
      url.search = query.length <= 8192 ? query : '';
      let done;
      try {
        const browser = cookies(req)[BROWSER_COOKIE];
        done = await sso.finish(url, browser && browser.length <= 100 ? browser : undefined);
      } catch (err) {
        const e = err as GatehouseError;
        await s.audit({
          actor: 'sso',
          channel: 'web',
          action: 'auth.sso-failed',
          details: { address: req.ip, code: e.code, reason: String(e.message).slice(0, 300) },
        });
        return failure(reply, err);
      }
      const { user, returnTo } = done;
      const target = safeRedirect(returnTo);
      reply.header('set-cookie', browserCookie(s, req, '', 0));
      const ticket = await secondFactorTicket(s, user, req);
      if (ticket) return reply.header('cache-control', 'no-store').redirect(`${target.split('#')[0]}#${ticket}`, 302);
      const sess = await store.createSession(user.id, req.ip, s.clock.now(), SESSION_TTL_MS);
      await s.audit({
        actor: user.username,
        actorId: user.id,
        channel: 'web',
        action: 'auth.login',
        details: { address: req.ip, method: 'sso' },
      });
      reply.header('set-cookie', [browserCookie(s, req, '', 0), sessionCookie(s, req, sess.token, SESSION_TTL_MS / 1000)]);
      return reply.header('cache-control', 'no-store').redirect(target, 302);
    },
  );

  await ssoConfigRoutes(app, ctx);
}
