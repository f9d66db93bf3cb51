// A database session's statements, for administrators (like recordings: they may hold business data).
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../core/errors.js';
import { ById, errors } from '../schema.js';
import type { Ctx } from '../context.js';
import { StatementPage, StatementQuery } from './schema.js';

export async function statementRoutes(app: FastifyInstance, { s, store }: Ctx) {
  app.get(
    '/sessions/:id/statements',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Statements of a database session, oldest first (page on with afterId)',
        params: ById,
        querystring: StatementQuery,
        response: { 200: StatementPage, ...errors },
      },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const q = req.query as { afterId?: number; limit?: number };
      if (!(await store.getSession(id))) throw notFound(`session #${id}`);
      const limit = q.limit ?? 200;
      const rows = await s.statements.forSession(id, q.afterId ?? 0, limit);
      return {
        items: rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() })),
        nextAfterId: rows.length === limit ? rows[rows.length - 1].id : null,
      };
    },
  );
}
