// JSON API under /api/v1, its OpenAPI document at /api/docs, and the console (web/dist) at /.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from '../../services.js';
import { installAuth } from '../auth.js';
import { registerConsoleFallback } from '../console-fallback.js';
import { accessRuleRoutes } from './access-rules/index.js';
import { approvalRoutes } from './approvals/index.js';
import { auditRoutes } from './audit/index.js';
import { connectRoutes } from './connect/index.js';
import type { Ctx } from './context.js';
import { deviceGroupRoutes } from './device-groups/index.js';
import { deviceRoutes } from './devices/index.js';
import { directoryRoutes } from './directory/index.js';
import { emailLinkRoutes } from './email-links/index.js';
import { eventRoutes } from './events/index.js';
import { explainRoutes } from './explain/index.js';
import { httpProxyLoginRoutes } from './http-proxy-login/index.js';
import { loginRoutes } from './login/index.js';
import { mailSettingsRoutes } from './mail-settings/index.js';
import { paramRoutes } from './params/index.js';
import { passkeyRoutes } from './passkeys/index.js';
import { rdpRoutes } from './rdp/index.js';
import { recordingRoutes } from './recordings/index.js';
import { reportRoutes } from './reports/index.js';
import { secondFactorRoutes } from './second-factor/index.js';
import { sessionListRoutes } from './sessions/index.js';
import { statementRoutes } from './statements/index.js';
import { ssoRoutes } from './sso/index.js';
import { sshSsoRoutes } from './ssh-sso/index.js';
import { tokenRoutes } from './tokens/index.js';
import { userGroupRoutes } from './user-groups/index.js';
import { userRoutes } from './users/index.js';
import { webhookRoutes } from './webhooks/index.js';
import { workflowRoutes } from './workflows/index.js';

/** Every module under /api/v1, in the order the OpenAPI document lists them. */
const API_ROUTES = [
  loginRoutes,
  tokenRoutes,
  userRoutes,
  userGroupRoutes,
  deviceGroupRoutes,
  deviceRoutes,
  accessRuleRoutes,
  workflowRoutes,
  paramRoutes,
  approvalRoutes,
  sessionListRoutes,
  recordingRoutes,
  statementRoutes,
  reportRoutes,
  mailSettingsRoutes,
  webhookRoutes,
  auditRoutes,
  eventRoutes,
  connectRoutes,
  explainRoutes,
  secondFactorRoutes,
  passkeyRoutes,
  directoryRoutes,
  rdpRoutes,
  httpProxyLoginRoutes,
  ssoRoutes,
  sshSsoRoutes,
];

/** The console's built files: web/dist beside src/ (tsx) or dist/ (built). */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function registerApi(app: FastifyInstance, s: Services): Promise<void> {
  const ctx: Ctx = { s, store: s.apiStore };

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Gatehouse API',
        version: '1',
        description:
          'Log in with POST /api/v1/session (console) or send `Authorization: Bearer <token>` (scripts). Cookie sessions must send the x-csrf-token header on every state-changing request.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'gh_session' } },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  await app.register(
    async (api) => {
      installAuth(api, s, ctx.store);
      for (const routes of API_ROUTES) await routes(api, ctx);
    },
    { prefix: '/api/v1' },
  );
  await emailLinkRoutes(app, ctx);

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
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Gatehouse</title><p>The console is not built: run <code>npm run build</code>. The API is at <a href="/api/docs">/api/docs</a>.</p>',
        ),
    );
  if (existsSync(WEB_DIST)) registerConsoleFallback(app);
}
