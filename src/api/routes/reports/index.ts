// Approval reports over a period, for administrators: per approver, time to decision, expired requests.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../../core/errors.js';
import { reportCsv, reportForPeriod } from '../../../core/reports.js';
import { personById } from '../../../presenters/people.js';
import type { Ctx } from '../context.js';
import { errors } from '../schema.js';
import { ReportQuery } from './schema.js';

export async function reportRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/reports/approvals',
    {
      schema: {
        tags: ['reports'],
        summary: 'Approvals over a period: per approver, median time to decision, expired requests, most requested devices (JSON or CSV)',
        querystring: ReportQuery,
        response: { 200: Type.Any(), ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query as { since?: string; until?: string; format?: 'json' | 'csv' };
      const now = s.clock.now();
      const from = q.since ? Date.parse(q.since) : now - 30 * 86_400_000;
      const to = q.until ? Date.parse(q.until) : now + 1;
      if (Number.isNaN(from) || Number.isNaN(to) || to <= from)
        throw invalid('since and until must be ISO 8601 times, since before until', 'since');
      const report = await reportForPeriod(s, from, to, now, personById);
      if (q.format === 'csv')
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="approvals-report.csv"')
          .send(reportCsv(report));
      return report;
    },
  );
}
