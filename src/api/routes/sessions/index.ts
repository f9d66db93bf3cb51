// Sessions: live and past proxied connections (the `sessions` table); administrators kill live ones.
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../core/errors.js';
import { presentSession } from '../../../presenters/index.js';
import { canSeeSession, isAdmin } from '../../policy.js';
import { ById, Ok, errors, list } from '../schema.js';
import { KillReason, Session, SessionListQuery } from './schema.js';
import { actorOf, callerOf, nextBefore, type Ctx } from '../context.js';

export async function sessionListRoutes(app: FastifyInstance, { s, store }: Ctx) {
  app.get(
    '/sessions',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['sessions'],
        summary:
          'Sessions, newest first (admins: all; others: their own); approvalId= lists the sessions (and recordings) an approval let through',
        querystring: SessionListQuery,
        response: { 200: list(Session), ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const q = req.query as { state?: 'live' | 'past' | 'all'; approvalId?: number; beforeId?: number; limit?: number };
      const limit = q.limit ?? 50;
      const rows = await store.listSessions({
        live: q.state === 'live' ? true : q.state === 'past' ? false : undefined,
        userId: isAdmin(c) ? undefined : c.user.id,
        approvalId: q.approvalId,
        beforeId: q.beforeId,
        limit,
      });
      const p = await s.policy.current();
      return { items: rows.map((r) => presentSession(p, r)), nextBeforeId: nextBefore(rows, limit) };
    },
  );

  app.get(
    '/sessions/:id',
    {
      config: { allow: 'user' },
      schema: { tags: ['sessions'], summary: 'One session', params: ById, response: { 200: Session, ...errors } },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const r = await store.getSession(id);
      if (!r || !canSeeSession(callerOf(req), r)) throw notFound(`session #${id}`);
      return presentSession(await s.policy.current(), r);
    },
  );

  app.post(
    '/sessions/:id/kill',
    {
      schema: {
        tags: ['sessions'],
        summary: 'End a live session (on whichever node holds it)',
        params: ById,
        body: KillReason,
        response: { 200: Ok, ...errors },
      },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const r = await store.getSession(id);
      if (!r) throw notFound(`session #${id}`);
      const a = actorOf(req);
      const reason =
        (req.body as { reason?: string } | undefined)?.reason?.replace(/[\u0000-\u001f\u007f]/g, ' ').trim() || `ended by ${a.username}`;
      await s.sessions.requestKill(id, reason);
      await s.audit({
        actor: a.username,
        actorId: a.id,
        channel: a.channel,
        action: 'session.kill',
        targetType: 'session',
        targetId: id,
        details: { reason, live: r.ended_at === null },
      });
      void s.bus.kick();
      return { ok: true };
    },
  );
}
