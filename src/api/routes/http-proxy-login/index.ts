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
import { HandOffQuery } from './schema.js';

const HOST_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Fixed bytes (no nonce, no name): unknown and unreachable hosts must not be told apart. */
const NOT_AVAILABLE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not available</title></head><body><main><h1>This address is not available</h1><p>There is no web console here that you may open. If you think you should have access, ask your Gatehouse administrator.</p></main></body></html>`;
const esc = (v: string) => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export async function httpProxyLoginRoutes(app: FastifyInstance, { s }: Ctx): Promise<void> {
  const tokens = new LoginTokens(s.httpLoginTokens, () => s.clock.now());

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
      if (!HOST_RE.test(host))
        return reply.status(400).send({ error: { code: 'invalid', message: 'not a device host name', field: 'host' } });
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      if (req.caller && req.caller.channel === 'web') {
        let origin = proxyOrigin(s);
        if (!origin) {
          const h = s.config.http;
          origin = { scheme: h.tlsCertFile ? 'https' : 'http', baseDomain: h.baseDomain, port: h.publicPort ?? s.config.httpProxyPort };
        }
        // No token for a host the user cannot reach: the same page as for a device that does not exist.
        if (!(await mayOpen(s, req.caller.user.id, host)))
          return reply
            .status(404)
            .header('content-security-policy', "default-src 'none'")
            .type('text/html; charset=utf-8')
            .send(NOT_AVAILABLE);
        const token = await tokens.issue(req.caller.user.id, host);
        return reply.redirect(
          `${deviceOrigin(origin, host)}/.gatehouse/auth?token=${encodeURIComponent(token)}&return=${encodeURIComponent(ret)}`,
          303,
        );
      }
      const nonce = randomBytes(12).toString('base64');
      reply.header(
        'content-security-policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      );
      reply.header('x-frame-options', 'DENY');
      const instance = (await s.params.params()).str('instance.name');
      return reply.type('text/html; charset=utf-8').send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign in - ${esc(instance)}</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:24rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px}label{display:block;margin-top:.8rem}input{width:100%;box-sizing:border-box;font:inherit;padding:.3rem}button{margin-top:1rem;font:inherit;padding:.4rem 1rem}.err{color:#a0141e}</style></head>
<body><main><h1>Sign in to ${esc(instance)}</h1><p>to open the web console of <strong>${esc(host)}</strong>.</p>
<form id="login"><label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p id="error" class="err" role="alert"></p><button type="submit">Sign in</button></form></main>
<script nonce="${nonce}">document.getElementById('login').addEventListener('submit',function(e){e.preventDefault();var f=e.target;
fetch('/api/v1/session',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({username:f.username.value,password:f.password.value})})
.then(function(r){if(r.status===202){var a=document.createElement('a');a.href='/';a.textContent='the console';var e=document.getElementById('error');e.textContent='Your account needs a second factor: sign in to ';e.appendChild(a);e.appendChild(document.createTextNode(' first, then reload this page.'));return;}if(r.ok){location.reload();return;}return r.json().then(function(b){document.getElementById('error').textContent=(b&&b.error&&b.error.message)||'Sign-in failed';});})
.catch(function(){document.getElementById('error').textContent='Sign-in failed: the server did not answer';});});</script></body></html>`,
      );
    },
  );
}
