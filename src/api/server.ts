// The web process: health, readiness and metrics now; the JSON API and console mount here.
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { GatehouseError } from '../core/errors.js';
import type { Services } from '../services.js';
import { pendingMigrations } from '../storage/db.js';
import { Metrics } from './metrics.js';
import { closeUnreadBodies } from './limits.js';

export async function buildWebServer(s: Services, metrics: Metrics): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, trustProxy: false });
  closeUnreadBodies(app);

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof GatehouseError) {
      const status = { not_found: 404, forbidden: 403, invalid: 400, conflict: 409, already_decided: 409, expired: 409, self_approval: 403, second_factor_required: 403, no_approver: 409, reason_required: 400, unavailable: 503 }[err.code];
      return reply.status(status).send({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
    }
    const e = err as { statusCode?: number; validation?: { instancePath?: string; params?: { missingProperty?: string } }[]; message?: string };
    // Schema errors name the field, so a form can show the message next to it.
    const v = e.validation?.[0];
    const field = v ? (v.instancePath?.split('/')[1] || v.params?.missingProperty) : undefined;
    if (e.validation || (e.statusCode && e.statusCode < 500))
      return reply.status(e.statusCode ?? 400).send({ error: { code: e.statusCode === 429 ? 'rate_limited' : 'invalid', message: e.message ?? 'bad request', ...(field ? { field } : {}) } });
    s.log.error({ err: String(err) }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error: { code: 'not_found', message: 'no such route' } }));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await sql`select 1`.execute(s.store.db);
      const pending = await pendingMigrations(s.store.handle);
      if (pending.length) return reply.status(503).send({ status: 'not-ready', reason: `pending migrations: ${pending.join(', ')}` });
      return { status: 'ready', database: s.store.dialect };
    } catch {
      return reply.status(503).send({ status: 'not-ready', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.render();
  });
  return app;
}
