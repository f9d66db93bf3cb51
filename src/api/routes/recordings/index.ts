// Session recordings (asciicast v2, for the console's player), for administrators.
import { access, constants } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { Recordings } from '../../../recording/service.js';
import { castStream } from '../../../recording/read.js';
import { ById, errors } from '../schema.js';
import type { Ctx } from '../context.js';

export async function recordingRoutes(app: FastifyInstance, { s, store }: Ctx) {
  const recordings = new Recordings(s);
  app.get(
    '/sessions/:id/recording',
    {
      schema: {
        tags: ['sessions'],
        summary: 'The session recording as asciicast v2 (also while the session is live: what was recorded so far)',
        params: ById,
        response: { 200: Type.String(), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      if (!(await store.getSession(id))) throw notFound(`session #${id}`);
      const path = await recordings.pathOf(id);
      if (!path) throw notFound(`a recording of session #${id}`);
      if (
        !(await access(path, constants.R_OK).then(
          () => true,
          () => false,
        ))
      )
        throw notFound(`a readable recording of session #${id}`);
      // Streamed: a recording may inflate to gigabytes; it is never held whole in memory.
      return reply
        .header('content-type', 'application/x-asciicast; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(castStream(path));
    },
  );
}
