// What every route module receives: the services, the API's store, and small shared helpers. Each
// resource has a folder here: index.ts registers its routes, schema.ts holds its TypeBox schemas (all
// re-exported by api/schemas.ts); who may do what is in api/policy.ts, the JSON shapes in presenters/.
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../core/admin/service.js';
import type { Services } from '../../services.js';
import type { Caller } from '../policy.js';
import type { ApiStore } from '../store.js';

export interface Ctx {
  s: Services;
  store: ApiStore;
}

/** The logged-in caller; the auth hook guarantees one on every non-public route. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Error('route without a caller: check its `allow` rule');
  return req.caller;
}

/** The AdminService actor for a caller: audit records show who, and through which channel. */
export function actorOf(req: FastifyRequest): Actor {
  const c = callerOf(req);
  return { username: c.user.username, id: c.user.id, channel: c.channel };
}

/** `beforeId` for the next page, when this page was full. */
export function nextBefore<T extends { id: number }>(items: T[], limit: number): number | null {
  return items.length === limit && items.length ? items[items.length - 1].id : null;
}

/** The host name users type to reach the gateway: GATEHOUSE_PUBLIC_URL's, else the bind address. */
export function publicHost(s: Services): string {
  try {
    return new URL(s.config.publicUrl).hostname;
  } catch {
    return s.config.bind;
  }
}
