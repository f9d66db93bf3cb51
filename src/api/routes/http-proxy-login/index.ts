// The console side of the HTTP proxy's login: a device host sends a browser without its cookie here.
// Logged in to the console: we hand back a one-time token (60 s, bound to that device host) on the
// device's own address, where the proxy swaps it for its own cookie, so the console's cookie never
// reaches a device. Not logged in: a small sign-in form that uses the console's own login endpoint.
// The same answer for every device name: nothing here says whether a device exists.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { safeRedirect } from '../../../core/redirect.js';
import { LoginTokens, deviceOrigin, mayOpen, proxyOrigin } from '../../../protocols/http/index.js';
import type { Ctx } from '../context.js';
import { NOT_AVAILABLE, signInPage } from './page.js';
import { HandOffQuery } from './schema.js';

const HOST_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function httpProxyLoginRoutes(app: FastifyInstance, { s }: Ctx): Promise<void> {
  const tokens = new LoginTokens(s.store.db, () => s.clock.now());

  app.get(
    '/http-proxy/login',
    {
      config: { allow: 'public' },
      schema: {
        tags: ['session'],
        hide: true,
        summary: 'HTTP proxy sign-in hand-off: redirects to the device host with a one-time token (or shows a sign-in form)',
        querystring: HandOffQuery,
      },
    },
    async (req, reply) => {
      const q = req.query as { host: string; return?: string };
      const host = q.host.toLowerCase();
      const ret = safeRedirect(q.return);
      if (!HOST_RE.test(host)) return reply.status(400).send({ error: { code: 'invalid', message: 'not a device host name', field: 'host' } });
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      if (req.caller && req.caller.channel === 'web') {
        let origin = proxyOrigin(s);
        if (!origin) {
          const h = s.config.http;
          origin = { scheme: h.tlsCertFile ? 'https' : 'http', baseDomain: h.baseDomain, port: h.publicPort ?? s.config.httpProxyPort };
        }
        // No token for a host the user cannot reach: the same page as for a device that does not exist.
        if (!(await mayOpen(s, req.caller.user.id, host))) return reply.status(404).header('content-security-policy', "default-src 'none'").type('text/html; charset=utf-8').send(NOT_AVAILABLE);
        const token = await tokens.issue(req.caller.user.id, host);
        return reply.redirect(`${deviceOrigin(origin, host)}/.gatehouse/auth?token=${encodeURIComponent(token)}&return=${encodeURIComponent(ret)}`, 303);
      }
      const nonce = randomBytes(12).toString('base64');
      reply.header('content-security-policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
      reply.header('x-frame-options', 'DENY');
      const instance = (await s.params.params()).str('instance.name');
      return reply.type('text/html; charset=utf-8').send(signInPage(nonce, instance, host));
    },
  );
}
