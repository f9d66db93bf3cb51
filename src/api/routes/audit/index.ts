// The audit log: filter, page, and export as CSV or JSON (administrators).
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../core/errors.js';
import { auditCsv, presentAudit } from '../../../presenters/audit.js';
import { errors, list } from '../schema.js';
import { AuditExportQuery, AuditListQuery, AuditRecord } from './schema.js';
import type { AuditFilter } from '../../store.js';
import { type Ctx, nextBefore } from '../context.js';

const EXPORT_MAX = 100_000;

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

export async function auditRoutes(app: FastifyInstance, { store }: Ctx) {
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
      return { items: rows.map(presentAudit), nextBeforeId: nextBefore(rows, limit) };
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
      const rows = (await store.listAudit(filter(q, EXPORT_MAX))).map(presentAudit);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply.header('content-disposition', `attachment; filename="gatehouse-audit-${stamp}.${q.format}"`);
      if (q.format === 'json') return reply.type('application/json').send(JSON.stringify(rows));
      return reply.type('text/csv; charset=utf-8').send(auditCsv(rows));
    },
  );
}
