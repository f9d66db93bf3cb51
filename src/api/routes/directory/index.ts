// The directory (LDAP): its settings (never the bind password) and last sync, and a sync on demand.
import type { FastifyInstance } from 'fastify';
import { directoryOf } from '../../../directory/index.js';
import { callerOf, type Ctx } from '../context.js';
import { SyncOptions } from './schema.js';

export async function directoryRoutes(app: FastifyInstance, { s }: Ctx) {
  const { directory } = directoryOf(s);

  app.get(
    '/directory',
    { schema: { tags: ['directory'], summary: 'Admin: the directory settings (never the bind password) and the last sync' } },
    async (_req, reply) => {
      const v = await directory.view();
      if (!v)
        return reply.status(404).send({ error: { code: 'not_found', message: 'no directory is configured (gatehouse directory set)' } });
      return v;
    },
  );

  app.post(
    '/directory/sync',
    { schema: { tags: ['directory'], summary: 'Admin: sync the directory now (or only say what would change)', body: SyncOptions } },
    async (req, reply) => {
      const c = callerOf(req);
      try {
        return await directory.sync(
          { username: c.user.username, id: c.user.id, channel: c.channel },
          { dryRun: !!(req.body as { dryRun?: boolean } | undefined)?.dryRun },
        );
      } catch (err) {
        const e = err as { code?: string; message?: string };
        const status =
          e.code === 'not_found' ? 404 : e.code === 'conflict' ? 409 : e.code === 'unavailable' ? 502 : e.code === 'invalid' ? 400 : null;
        if (status === null) throw err;
        return reply.status(status).send({ error: { code: e.code, message: e.message } });
      }
    },
  );
}
