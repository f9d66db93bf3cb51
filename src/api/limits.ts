// Bodies the console and API do not read to their end (too large, refused, or never wanted) end the
// connection with the answer: otherwise Node keeps reading and discarding them, however long, to reach
// the next request. Fastify's own body limit (bodyLimit) stops buffering; this stops the reading.
import type { FastifyInstance } from 'fastify';
import { hasBody } from '../protocols/http/limits.js';

export function closeUnreadBodies(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete && hasBody(req.raw)) reply.header('connection', 'close');
    return payload;
  });
}
