// The web process: health, readiness and metrics now; the JSON API and console mount here.
import Fastify, { type FastifyInstance } from 'fastify';
import { Kind } from '@sinclair/typebox';
import { GatehouseError } from '../core/errors.js';
import type { Services } from '../services.js';
import { storageErrorToGatehouse } from '../storage/retry.js';
import { Metrics } from './metrics.js';
import { closeUnreadBodies } from './limits.js';
import { bodyFieldErrors, schemaFieldErrors, type SchemaError } from './field-errors.js';

const STATUS: Record<GatehouseError['code'], number> = {
  not_found: 404,
  forbidden: 403,
  invalid: 400,
  conflict: 409,
  already_decided: 409,
  expired: 409,
  self_approval: 403,
  second_factor_required: 403,
  passkey_required: 403,
  no_approver: 409,
  reason_required: 400,
  unavailable: 503,
};

export async function buildWebServer(s: Services, metrics: Metrics): Promise<FastifyInstance> {
  // Unknown fields are refused, never dropped: ajv's removeAdditional is off, and every body schema
  // is closed (strictBodies) so a typo or an injected field answers 400 naming it.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, trustProxy: false, ajv: { customOptions: { removeAdditional: false } } });
  strictBodies(app);
  closeUnreadBodies(app);

  app.setErrorHandler((error, req, reply) => {
    // A lost database race is a 409 and an exhausted pool a 503, wherever they surface (storage/retry.ts).
    const mapped = storageErrorToGatehouse(error);
    if (mapped)
      s.log.warn({ err: String(error) }, `database ${mapped.code === 'conflict' ? 'race lost' : 'busy'}; answered ${mapped.code}`);
    const err = mapped ?? error;
    if (err instanceof GatehouseError) {
      // Core validation may name several fields at once (core/admin/problems.ts).
      const fields = (err as GatehouseError & { fields?: Record<string, string> }).fields;
      return reply.status(STATUS[err.code]).send({
        error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(fields ? { fields } : {}) },
      });
    }
    const e = err as { statusCode?: number; validation?: SchemaError[]; validationContext?: string; message?: string };
    if (e.validation) {
      // Fastify stops at the first problem (cheap on a hostile body); the body is then read again for all of them.
      const words =
        (e.validationContext === 'body' ? bodyFieldErrors(req.routeOptions.schema?.body, req.body) : null) ??
        schemaFieldErrors(e.validation);
      return reply
        .status(400)
        .send({ error: { code: 'invalid', message: words.message, ...(words.field ? { field: words.field } : {}), fields: words.fields } });
    }
    if (e.statusCode && e.statusCode < 500)
      return reply
        .status(e.statusCode)
        .send({ error: { code: e.statusCode === 429 ? 'rate_limited' : 'invalid', message: e.message ?? 'bad request' } });
    s.log.error({ err: String(err) }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error: { code: 'not_found', message: 'no such route' } }));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await s.dbHealth.ping();
      const pending = await s.dbHealth.pendingMigrations();
      if (pending.length) return reply.status(503).send({ status: 'not-ready', reason: `pending migrations: ${pending.join(', ')}` });
      return { status: 'ready', database: s.store.dialect };
    } catch {
      return reply.status(503).send({ status: 'not-ready', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    try {
      const text = await metrics.render();
      return reply.header('content-type', metrics.registry.contentType).send(text);
    } catch (err) {
      // A scrape that cannot answer for the whole node says so (not one worker's figures); the cause is logged, not sent.
      s.log.warn({ err: String(err) }, 'metrics scrape failed');
      return reply.status(503).type('text/plain').send('metrics unavailable: the figures could not be gathered; see the log\n');
    }
  });
  return app;
}

type Schema = Record<string, unknown>;

/** A copy of a JSON schema in which every object with named properties admits no others. */
export function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  // An intersection of objects is one object: merged, it can be closed (closing each part refuses the other's fields).
  const all = (schema as Schema).allOf;
  if (
    Array.isArray(all) &&
    all.length > 0 &&
    all.every((x: Schema) => x?.type === 'object' && x.properties !== undefined && x.additionalProperties === undefined)
  ) {
    const { allOf: _parts, ...rest } = schema as Schema;
    void _parts;
    const merged = {
      ...rest,
      [Kind]: 'Object',
      type: 'object',
      properties: Object.assign({}, ...all.map((x: Schema) => x.properties)),
      required: [...new Set(all.flatMap((x: Schema) => (x.required as string[]) ?? []))],
    };
    return closeObjects(merged);
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema as Schema)) {
    if (k === 'properties' && v && typeof v === 'object')
      out[k] = Object.fromEntries(Object.entries(v as Schema).map(([n, s]) => [n, closeObjects(s)]));
    else if (['items', 'anyOf', 'oneOf', 'allOf', 'additionalProperties', 'patternProperties'].includes(k))
      out[k] =
        k === 'patternProperties' ? Object.fromEntries(Object.entries(v as Schema).map(([n, s]) => [n, closeObjects(s)])) : closeObjects(v);
    else out[k] = v;
  }
  // TypeBox's own marks (symbol keys) stay, so the error handler can read the closed schema with TypeBox too.
  for (const sym of Object.getOwnPropertySymbols(schema)) (out as Record<symbol, unknown>)[sym] = (schema as Record<symbol, unknown>)[sym];
  if (
    out.type === 'object' &&
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out.patternProperties === undefined
  )
    out.additionalProperties = false;
  return out;
}

/** Every route's body schema, whoever registers it and whenever, is closed before Fastify compiles it. */
function strictBodies(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.schema?.body) route.schema = { ...route.schema, body: closeObjects(route.schema.body) };
  });
}
