// JSON API under /api/v1, its OpenAPI document at /api/docs, and the console (web/dist) at /.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from '../../services.js';
import { installAuth } from '../auth.js';
import { registerHttpProxyLogin } from '../http-proxy-login.js';
import { registerEmailLinks } from '../email-links.js';
import { registerRdpRoutes } from '../rdp-routes.js';
import { registerTotpRoutes } from '../totp-routes.js';
import { accessRuleRoutes } from './access-rules.js';
import { approvalRoutes } from './approvals.js';
import { auditRoutes } from './audit.js';
import { connectRoutes } from './connect.js';
import type { Ctx } from './context.js';
import { deviceGroupRoutes } from './device-groups.js';
import { deviceRoutes } from './devices.js';
import { eventRoutes } from './events.js';
import { explainRoutes } from './explain.js';
import { paramRoutes } from './params.js';
import { sessionRoutes } from './session.js';
import { sessionListRoutes } from './sessions.js';
import { recordingRoutes } from './recordings.js';
import { mailSettingsRoutes } from './mail-settings.js';
import { userGroupRoutes } from './user-groups.js';
import { userRoutes } from './users.js';
import { workflowRoutes } from './workflows.js';

/** The console's built files: web/dist beside src/ (tsx) or dist/ (built). */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function registerApi(app: FastifyInstance, s: Services): Promise<void> {
  const ctx: Ctx = { s, store: s.apiStore };

  await app.register(swagger, {
    openapi: {
      info: { title: 'Gatehouse API', version: '1', description: 'Log in with POST /api/v1/session (console) or send `Authorization: Bearer <token>` (scripts). Cookie sessions must send the x-csrf-token header on every state-changing request.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'gh_session' } } },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  await app.register(
    async (api) => {
      installAuth(api, s, ctx.store);
      for (const routes of [sessionRoutes, userRoutes, userGroupRoutes, deviceGroupRoutes, deviceRoutes, accessRuleRoutes, workflowRoutes, paramRoutes, approvalRoutes, sessionListRoutes, recordingRoutes, mailSettingsRoutes, auditRoutes, eventRoutes, connectRoutes, explainRoutes])
        await routes(api, ctx);
      await registerTotpRoutes(api, s);
      await registerRdpRoutes(api, s);
      await registerHttpProxyLogin(api, s);
    },
    { prefix: '/api/v1' },
  );
  await registerEmailLinks(app, s);

  // The console: static files with strict headers; client-side routes live after '#', so no fallback is needed.
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/api/')) return;
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    if (!req.url.startsWith('/api/docs')) reply.header('content-security-policy', CSP);
  });
  if (existsSync(WEB_DIST)) await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', wildcard: false, index: 'index.html' });
  else
    app.get('/', async (_req, reply) =>
      reply.type('text/html').send('<!doctype html><title>Gatehouse</title><p>The console is not built: run <code>npm run build</code>. The API is at <a href="/api/docs">/api/docs</a>.</p>'),
    );
}


