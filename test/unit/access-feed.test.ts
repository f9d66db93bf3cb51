// RequestFeed: once narrowed to its request, a waiter queues only that request's events (one user's
// thousands of waiting connections must not each wake for every decision about the others).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestFeed } from '../../src/core/access/feed.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import type { ApprovalRequest, BusEvent } from '../../src/core/types.js';

function bus() {
  const fns = new Set<(e: BusEvent) => void>();
  return {
    subscribe: (fn: (e: BusEvent) => void) => (fns.add(fn), () => fns.delete(fn)),
    kick: async () => {},
    emit: (id: number, requesterId: number, status = 'approved') =>
      fns.forEach((fn) =>
        fn({ id: 1, type: `approval.${status}`, at: 0, payload: { request: { id, requesterId, status } as ApprovalRequest } } as BusEvent),
      ),
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
  for (let id = 1; id <= 20; id++) b.emit(id, 1);
  b.emit(7, 2);
  assert.deepEqual(
    feed.inbox.drain().map((s) => s.request.id),
    [7, 7],
    'after: request 7 only (whoever it belongs to in the event, the id decides)',
  );
  feed.close();
});
