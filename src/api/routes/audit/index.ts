// The audit log: filter, page, and export as CSV or JSON (administrators).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../../core/errors.js';
import { presentAudit } from '../../../presenters/index.js';
import { AuditRecord, errors, list } from '../../schemas.js';
import type { AuditFilter } from '../../store.js';
import { type Ctx, nextBefore } from '../context.js';

const Filter = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 64, description: 'prefix, e.g. approval. or approval.approve' })),
  actor: Type.Optional(Type.String({ maxLength: 64 })),
  targetType: Type.Optional(Type.String({ maxLength: 32 })),
  targetId: Type.Optional(Type.String({ maxLength: 64 })),
  channel: Type.Optional(Type.String({ maxLength: 16 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
});
const EXPORT_MAX = 100_000;

type Q = { action?: string; actor?: string; targetType?: string; targetId?: string; channel?: string; from?: string; to?: string; beforeId?: number; limit?: number };
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

/** One CSV field: quoted, and a leading = + - @ neutralised so a spreadsheet never runs it as a formula. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export async function auditRoutes(app: FastifyInstance, { store }: Ctx) {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit records, newest first, filtered',
        querystring: Type.Intersect([Filter, Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), beforeId: Type.Optional(Type.Integer({ minimum: 1 })) })]),
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
        querystring: Type.Intersect([Filter, Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('json')]) })]),
      },
    },
    async (req, reply) => {
      const q = req.query as Q & { format: 'csv' | 'json' };
      if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw invalid("'from' must be before 'to'", 'from');
      const rows = (await store.listAudit(filter(q, EXPORT_MAX))).map(presentAudit);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply.header('content-disposition', `attachment; filename="gatehouse-audit-${stamp}.${q.format}"`);
      if (q.format === 'json') return reply.type('application/json').send(JSON.stringify(rows));
      const cols = ['id', 'at', 'actor', 'channel', 'action', 'targetType', 'targetId', 'details'] as const;
      const lines = [cols.join(','), ...rows.map((r) => cols.map((k) => csvField(r[k])).join(','))];
      return reply.type('text/csv; charset=utf-8').send(lines.join('\r\n') + '\r\n');
    },
  );
}
