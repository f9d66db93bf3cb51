// RequestFeed: once narrowed to its request, a waiter queues only that request's events (one user's
// thousands of waiting connections must not each wake for every decision about the others).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestFeed } from '../../src/core/access/feed.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import type { ApprovalRequest, BusEvent } from '../../src/core/types.js';

type Fn = (e: BusEvent) => void;

/** A bus shaped like EventBus's dispatch: general listeners get every event, keyed ones their request's. */
function bus() {
  const fns = new Set<Fn>();
  const keyed = new Map<number, Set<Fn>>();
  return {
    general: () => fns.size,
    subscribe: (fn: Fn) => (fns.add(fn), () => fns.delete(fn)),
    subscribeRequest: (id: number, fn: Fn) => {
      const set = keyed.get(id) ?? new Set<Fn>();
      keyed.set(id, set.add(fn));
      return () => set.delete(fn);
    },
    kick: async () => {},
    emit: (id: number, requesterId: number, status = 'approved') => {
      const e = {
        id: 1,
        type: `approval.${status}`,
        at: 0,
        payload: { request: { id, requesterId, status } as ApprovalRequest },
      } as BusEvent;
      keyed.get(id)?.forEach((fn) => fn(e));
      fns.forEach((fn) => fn(e));
    },
  };
}

test('a narrowed feed queues only its own request, not the same user’s other requests', () => {
  const b = bus();
  const feed = new RequestFeed(
    { bus: b, clock: new ManualClock(0), approvals: { get: async () => undefined } },
    (r) => r.requesterId === 1,
    new AbortController().signal,
  );
  b.emit(5, 1);
  b.emit(6, 2);
  assert.deepEqual(
    feed.inbox.drain().map((s) => s.request.id),
    [5],
    'before narrowing: every event of the user',
  );
  feed.narrow(7);
  assert.equal(b.general(), 0, 'a narrowed feed is not called for other requests’ events at all');
  for (let id = 1; id <= 20; id++) b.emit(id, 1);
  b.emit(7, 2);
  assert.deepEqual(
    feed.inbox.drain().map((s) => s.request.id),
    [7, 7],
    'after: request 7 only (whoever it belongs to in the event, the id decides)',
  );
  feed.close();
});
