// The audit log: filter, page, and export as CSV or JSON (administrators).
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../core/errors.js';
import { CHANNELS } from '../../../core/types.js';
import { auditActor, auditCsv, presentAudit } from '../../../presenters/audit.js';
import { errors, list } from '../schema.js';
import { AuditExportQuery, AuditListQuery, AuditRecord, AuditValues } from './schema.js';
import type { AuditFilter } from '../../store.js';
import { type Ctx, nextBefore } from '../context.js';

const EXPORT_MAX = 100_000;
/** Each filter offers at most this many values; they are read at most every VALUES_TTL_MS. */
const VALUES_MAX = 500;
const VALUES_TTL_MS = 30_000;

type Q = {
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  channel?: string;
  from?: string;
  to?: string;
  beforeId?: number;
  limit?: number;
};
const filter = (q: Q, limit: number): AuditFilter => ({
  action: q.action,
  actor: q.actor,
  targetType: q.targetType,
  targetId: q.targetId,
  channel: q.channel,
  from: q.from ? Date.parse(q.from) : undefined,
  to: q.to ? Date.parse(q.to) : undefined,
  beforeId: q.beforeId,
  limit,
});

export async function auditRoutes(app: FastifyInstance, { s, store }: Ctx) {
  let cached: { at: number; values: Promise<Awaited<ReturnType<typeof store.auditValues>>> } | null = null;
  // A few distinct scans of the log; cached so a page of reloads costs one.
  const stored = () => {
    const now = Date.now();
    if (!cached || now - cached.at > VALUES_TTL_MS) cached = { at: now, values: store.auditValues(VALUES_MAX) };
    const mine = cached;
    return mine.values.catch((e: unknown) => {
      if (cached === mine) cached = null;
      throw e;
    });
  };

  app.get(
    '/audit/values',
    {
      schema: {
        tags: ['audit'],
        summary: 'The values the audit filters offer: actions, actors, channels, target types, devices',
        response: { 200: AuditValues, ...errors },
      },
    },
    async () => {
      const v = await stored();
      const p = await s.policy.current();
      return {
        actions: v.actions,
        actors: v.actors.map((a) => ({ value: a, label: auditActor(a, p) })),
        channels: [...CHANNELS],
        targetTypes: v.targetTypes,
        devices: [...p.devicesById.values()]
          .sort((a, b) => a.name.localeCompare(b.name))
          .slice(0, VALUES_MAX)
          .map((d) => ({ value: String(d.id), label: d.name })),
      };
    },
  );

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit records, newest first, filtered',
        querystring: AuditListQuery,
        response: { 200: list(AuditRecord), ...errors },
      },
    },
    async (req) => {
      const q = req.query as Q;
      const limit = q.limit ?? 100;
      const rows = await store.listAudit(filter(q, limit));
      const p = await s.policy.current();
      return { items: rows.map((r) => presentAudit(r, p)), nextBeforeId: nextBefore(rows, limit) };
    },
  );

  app.get(
    '/audit/export',
    {
      schema: {
        tags: ['audit'],
        summary: `Export the filtered audit log (at most ${EXPORT_MAX} records) as CSV or JSON`,
        querystring: AuditExportQuery,
      },
    },
    async (req, reply) => {
      const q = req.query as Q & { format: 'csv' | 'json' };
      if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw invalid("'from' must be before 'to'", 'from');
      // The export keeps the stored form (details as recorded), not the readable fields.
      const rows = (await store.listAudit(filter(q, EXPORT_MAX))).map((r) => {
        const { actorName: _n, fields: _f, ...stored } = presentAudit(r);
        return stored;
      });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply.header('content-disposition', `attachment; filename="gatehouse-audit-${stamp}.${q.format}"`);
      if (q.format === 'json') return reply.type('application/json').send(JSON.stringify(rows));
      return reply.type('text/csv; charset=utf-8').send(auditCsv(rows));
    },
  );
}
