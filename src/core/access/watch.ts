// Following one known request: what it is now, then every change, for waiters that did not create it
// (the CLI's `approvals wait`, the HTTP waiting page's stream).
import type { ApprovalRequest, ApprovalStatus } from '../types.js';
import { RequestFeed, type FeedPorts } from './feed.js';

export interface Watch {
  /** The request when the watch began (undefined: no such request). */
  first: ApprovalRequest | undefined;
  /** Every later state of it, until `signal` aborts or close(). */
  changes: AsyncIterable<ApprovalRequest>;
  close(): void;
}

/** Subscribes, then reads the request: no change can fall between the two. */
export async function watch(ports: FeedPorts, id: number, signal: AbortSignal, expirySlackMs = 250): Promise<Watch> {
  const feed = new RequestFeed(ports, (r) => r.id === id, signal, expirySlackMs);
  let first: ApprovalRequest | undefined;
  try {
    first = await ports.approvals.get(id);
  } catch (err) {
    feed.close();
    throw err;
  }
  if (first?.status === 'waiting') feed.armExpiry(first);
  async function* changes(): AsyncGenerator<ApprovalRequest> {
    try {
      for (;;) {
        const seen = await feed.inbox.next();
        if (!seen) return;
        if (seen.request.status === 'waiting') feed.armExpiry(seen.request);
        yield seen.request;
      }
    } finally {
      feed.close();
    }
  }
  if (!first) feed.close();
  return { first, changes: changes(), close: () => feed.close() };
}

/** Waits until the request is decided: its status, 'waiting' if `signal` ends the wait first, undefined if there is no such request. */
export async function untilDecided(ports: FeedPorts, id: number, signal: AbortSignal): Promise<ApprovalStatus | undefined> {
  const w = await watch(ports, id, signal);
  if (!w.first || w.first.status !== 'waiting') {
    w.close();
    return w.first?.status;
  }
  for await (const r of w.changes) if (r.status !== 'waiting') return r.status;
  return 'waiting';
}
