// Live updates for the console: a Server-Sent Events stream fed by the event bus. Each caller gets only
// the approval events about requests they may see (policy.ts), so a decision made anywhere (console,
// CLI, mail, another node) shows without reload.
import type { FastifyInstance } from 'fastify';
import type { GatehouseEvent } from '../../../core/types.js';
import { presentApproval } from '../../../presenters/index.js';
import { actingFor, canDecideNow, canSeeEvent, type Caller } from '../../policy.js';
import type { Services } from '../../../services.js';
import { callerOf, type Ctx } from '../context.js';
import { requestOf } from '../../../core/events.js';

const HEARTBEAT_MS = 15_000;
const DELEGATION_REFRESH_MS = 30_000;

type Send = (event: string, data: unknown, id?: number) => unknown;

/** Sends one caller the bus events they may see, in order, one at a time; their delegations are re-read now and then. */
function eventFeed(s: Services, c: Caller, firstIds: number[], firstIdsAt: number, send: Send) {
  let ids = firstIds;
  let idsAt = firstIdsAt;
  const queue: GatehouseEvent[] = [];
  let draining = false;
  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (queue.length) {
        const e = queue.shift()!;
        if (Date.now() - idsAt > DELEGATION_REFRESH_MS) {
          ids = actingFor(c, await s.store.delegationsTo(c.user.id, s.clock.now()));
          idsAt = Date.now();
        }
        const r = requestOf(e);
        if (!canSeeEvent(c, e.type, r, ids)) continue;
        if (r) {
          const p = await s.policy.current();
          send(
            'approval',
            { type: e.type, request: { ...presentApproval(p, r, s.clock.now()), canDecide: canDecideNow(c, r, ids) } },
            e.id,
          );
        } else send(e.type.startsWith('session.') ? 'session' : 'policy', { type: e.type }, e.id);
      }
    } catch (err) {
      s.log.warn({ err: String(err) }, 'event stream failed');
    } finally {
      draining = false;
    }
  };
  return (e: GatehouseEvent) => {
    queue.push(e);
    void drain();
  };
}

export async function eventRoutes(app: FastifyInstance, { s, store }: Ctx) {
  const open = new Set<() => void>();
  // Closing the server must not wait for open streams: end them first.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/events',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events: approval changes I may see (event: approval), policy and session changes for admins',
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const ids = actingFor(c, await s.store.delegationsTo(c.user.id, s.clock.now()));
      const idsAt = Date.now();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\n: connected\n\n`);
      const send = (event: string, data: unknown, id?: number) =>
        res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

      const feed = eventFeed(s, c, ids, idsAt, send);
      const off = s.bus.subscribe((e) => {
        if (!e.type.startsWith('approval.') && e.type !== 'policy.changed' && !e.type.startsWith('session.')) return;
        feed(e);
      });
      // The heartbeat also checks that the login still holds: a logout or a disabled user ends the stream.
      const beat = setInterval(() => {
        void (async () => {
          const p = await s.policy.current();
          const user = p.usersById.get(c.user.id);
          const alive = !!user && !user.disabled && (!c.sessionId || (await store.sessionAlive(c.sessionId, s.clock.now())));
          if (alive) res.write(': ping\n\n');
          else end();
        })().catch(() => {});
      }, HEARTBEAT_MS);
      beat.unref();
      const stop = () => {
        off();
        clearInterval(beat);
      };
      const end = () => {
        stop();
        res.end();
      };
      open.add(end);
      req.raw.on('close', () => {
        open.delete(end);
        stop();
      });
      res.on('error', stop);
    },
  );
}
