// Session recordings (asciicast v2, for the console's player) and approval reports, for administrators.
import { access, constants } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound, invalid } from '../../../core/errors.js';
import { approvalReport, reportCsv } from '../../../core/reports.js';
import { Recordings } from '../../../recording/service.js';
import { castStream } from '../../../recording/read.js';
import { requestsInPeriod } from '../../../storage/store.js';
import { errors } from '../../schemas.js';
import type { Ctx } from '../context.js';

export async function recordingRoutes(app: FastifyInstance, { s, store }: Ctx) {
  const recordings = new Recordings(s);
  app.get(
    '/sessions/:id/recording',
    {
      schema: {
        tags: ['sessions'],
        summary: 'The session recording as asciicast v2 (also while the session is live: what was recorded so far)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.String(), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      if (!(await store.getSession(id))) throw notFound(`session #${id}`);
      const path = await recordings.pathOf(id);
      if (!path) throw notFound(`a recording of session #${id}`);
      if (!(await access(path, constants.R_OK).then(() => true, () => false))) throw notFound(`a readable recording of session #${id}`);
      // Streamed: a recording may inflate to gigabytes; it is never held whole in memory.
      return reply.header('content-type', 'application/x-asciicast; charset=utf-8').header('cache-control', 'no-store').send(castStream(path));
    },
  );

  app.get(
    '/reports/approvals',
    {
      schema: {
        tags: ['reports'],
        summary: 'Approvals over a period: per approver, median time to decision, expired requests, most requested devices (JSON or CSV)',
        querystring: Type.Object({ since: Type.Optional(Type.String({ maxLength: 40 })), until: Type.Optional(Type.String({ maxLength: 40 })), format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) }),
        response: { 200: Type.Any(), ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query as { since?: string; until?: string; format?: 'json' | 'csv' };
      const now = s.clock.now();
      const from = q.since ? Date.parse(q.since) : now - 30 * 86_400_000;
      const to = q.until ? Date.parse(q.until) : now + 1;
      if (Number.isNaN(from) || Number.isNaN(to) || to <= from) throw invalid('since and until must be ISO 8601 times, since before until', 'since');
      const { requests, decisions } = await requestsInPeriod(s.store.db, from, to);
      const p = await s.policy.current();
      const report = approvalReport(from, to, requests, decisions, (id) => p.userName(id), (id) => p.devicesById.get(id)?.name ?? `#${id}`, now);
      if (q.format === 'csv')
        return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="approvals-report.csv"').send(reportCsv(report));
      return report;
    },
  );
}
