// EventBus: keyed listeners get only their request's events; a commit here nudges this node's other
// processes (their poll runs at once) and polls here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/core/events.js';
import type { Store } from '../../src/core/ports/store.js';
import type { GatehouseEvent } from '../../src/core/types.js';

function store(events: GatehouseEvent[]) {
  const s = {
    polls: 0,
    maxEventId: async () => 0,
    eventsSince: async () => [],
    eventsAfter: async (after: number) => {
      s.polls++;
      return events.filter((e) => e.id > after);
    },
  };
  return s;
}

const approved = (id: number, requestId: number): GatehouseEvent => ({
  id,
  at: 0,
  type: 'approval.approved',
  payload: { request: { id: requestId, requesterId: 1, status: 'approved' } },
});

test('keyed listeners: only their request; general listeners: every event', async () => {
  const events = [approved(1, 7), approved(2, 8), approved(3, 7)];
  const st = store(events);
  const bus = new EventBus(st as unknown as Store, 60_000);
  const mine: number[] = [];
  const all: number[] = [];
  const off = bus.subscribeRequest(7, (e) => mine.push(e.id));
  bus.subscribe((e) => all.push(e.id));
  await bus.start();
  await bus.kick();
  assert.deepEqual(mine, [1, 3]);
  assert.deepEqual(all, [1, 2, 3]);
  off();
  events.push(approved(4, 7));
  await bus.kick();
  assert.deepEqual(mine, [1, 3], 'unsubscribed');
  bus.stop();
});

test('written() nudges the other processes and polls here', async () => {
  const st = store([]);
  const bus = new EventBus(st as unknown as Store, 60_000);
  let nudged = 0;
  bus.onWrite(() => nudged++);
  await bus.start();
  const before = st.polls;
  await bus.written();
  assert.equal(nudged, 1);
  assert.equal(st.polls, before + 1);
  bus.stop();
});
