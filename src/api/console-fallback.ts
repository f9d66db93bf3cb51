// The console routes in the browser (react-router), so a reload or a shared link to one of its pages
// must get index.html. Only the console's own top-level paths do: the API, assets, email-link pages and
// every other server route keep their answers, and an unknown path keeps the JSON 404.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type {} from '@fastify/static';

/** The first segment of every console page (web/src/routes.tsx). */
export const CONSOLE_PATHS = [
  'users',
  'devices',
  'workflows',
  'params',
  'my-approvals',
  'approval-requests',
  'approvals',
  'connect',
  'sessions',
  'audit',
  'reports',
  'tokens',
  'passkeys',
  // /sso/ssh/<code>: the link the SSH prompt prints (the SSO login routes live under /api/v1/sso).
  'sso',
  'webhooks',
  'chat',
] as const;

/** Call after @fastify/static is registered on web/dist (it gives reply.sendFile). */
export function registerConsoleFallback(app: FastifyInstance): void {
  const index = (_req: unknown, reply: FastifyReply) => reply.sendFile('index.html');
  for (const p of CONSOLE_PATHS) {
    app.get(`/${p}`, index);
    app.get(`/${p}/*`, index);
  }
}
