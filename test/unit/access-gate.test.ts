// The access gate (core/access) on in-memory ports: every outcome and update, no database, no network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { obtain, untilDecided, type AccessPorts, type AccessQuery, type AccessStep } from '../../src/core/access/index.js';
import type { RequestInput, RequestResult } from '../../src/core/approvals/service.js';
import { GatehouseError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import { PolicySnapshot } from '../../src/core/policy/snapshot.js';
import type { ApprovalEventType, ApprovalRequest, BusEvent, Decision, Route, User } from '../../src/core/types.js';

const user = (id: number, username: string, displayName = username): User => ({
  id,
  username,
  displayName,
  email: null,
  managerId: null,
  isAdmin: false,
  disabled: false,
  source: 'local',
});

const policy = new PolicySnapshot(
  {
    users: [user(1, 'alice'), user(2, 'bob', 'Bob Builder'), user(3, 'carol'), user(4, 'dave')],
    userGroups: [],
    deviceGroups: [],
    devices: [{ id: 7, name: 'web01', host: 'h', ports: { ssh: 22 }, protocols: ['ssh'], groupId: null, hostKey: null, enabled: true }],
    accounts: [{ id: 9, deviceId: 7, name: 'root', secretKind: 'password', isDefault: true }],
    accessRules: [],
    workflows: [],
  },
  1,
);

const route = (levels: number[][]): Route => ({
  source: 'workflow',
  sourceName: 'wf',
  why: 'workflow wf',
  levels: levels.map((ids) => ({ authority: 'users', quorum: 1, escalateAfterMinutes: null, approverIds: ids })),
});
const approvalRequired = (r: Route): Decision => ({
  outcome: 'approval-required',
  why: r.why,
  route: r,
  requireReason: false,
  allowPortForwarding: true,
  accountId: 9,
  noApprover: false,
  requesterIsApprover: false,
});

class FakeBus {
  private readonly fns = new Set<(e: BusEvent) => void>();
  private id = 0;
  kicks = 0;
  subscribe(fn: (e: BusEvent) => void) {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  subscribeRequest(id: number, fn: (e: BusEvent) => void) {
    return this.subscribe((e) => {
      if ('request' in e.payload && (e.payload.request as ApprovalRequest).id === id) fn(e);
    });
  }
  async kick() {
    this.kicks++;
  }
  get listeners() {
    return this.fns.size;
  }
  emit(type: ApprovalEventType, request: ApprovalRequest) {
    for (const fn of this.fns) fn({ id: ++this.id, at: 0, type, payload: { request: structuredClone(request) } });
  }
}

/** An approval engine that does what each test scripts: decide() answers `decision`, request() runs `onRequest`. */
class FakeEngine {
  decision: Decision = { outcome: 'allowed', why: 'rule', requireReason: false, allowPortForwarding: false, accountId: 9 };
  readonly requests = new Map<number, ApprovalRequest>();
  onRequest: (input: RequestInput) => Promise<RequestResult> = async () => ({
    outcome: 'waiting',
    request: this.make(),
    created: true,
    reminded: false,
    decision: this.decision,
  });
  constructor(
    private readonly bus: FakeBus,
    private readonly clock: ManualClock,
  ) {}
  make(over: Partial<ApprovalRequest> = {}): ApprovalRequest {
    const r: ApprovalRequest = {
      id: 100 + this.requests.size,
      requesterId: 1,
      deviceId: 7,
      accountId: 9,
      protocol: 'ssh',
      reason: null,
      status: 'waiting',
      kind: 'instant',
      createdAt: this.clock.now(),
      expiresAt: null,
      decidedAt: null,
      currentLevel: 0,
      levelStartedAt: this.clock.now(),
      route: route([[2]]),
      autoApproved: false,
      grantStart: null,
      grantEnd: null,
      clientAddr: null,
      lastNotifiedAt: null,
      decidedBy: null,
      decisionComment: null,
      escalateAt: null,
      ...over,
    };
    this.requests.set(r.id, r);
    return r;
  }
  /** A transition made elsewhere: stored, then published. */
  set(id: number, type: ApprovalEventType, patch: Partial<ApprovalRequest>): ApprovalRequest {
    const r = { ...this.requests.get(id)!, ...patch };
    this.requests.set(id, r);
    this.bus.emit(type, r);
    return r;
  }
  async decide() {
    return this.decision;
  }
  request(input: RequestInput) {
    return this.onRequest(input);
  }
  async get(id: number) {
    return this.requests.get(id);
  }
  async cancel(id: number) {
    return this.set(id, 'approval.cancelled', { status: 'cancelled' });
  }
}

function setup() {
  const clock = new ManualClock(Date.now());
  const bus = new FakeBus();
  const engine = new FakeEngine(bus, clock);
  // Connections counted as held for a decision (gatehouse_waiting_connections).
  const waits = { now: 0, begun: [] as string[] };
  const ports: AccessPorts = {
    approvals: engine,
    policy: { current: async () => policy },
    grants: { window: (id) => (id === 55 ? { end: 123_456 } : undefined) },
    bus,
    clock,
    sessions: {
      beginWait: (protocol) => {
        waits.now++;
        waits.begun.push(protocol);
        return () => void waits.now--;
      },
    },
  };
  return { clock, bus, engine, ports, waits };
}

const query: AccessQuery = {
  user: { id: 1, username: 'alice' },
  device: 'web01',
  account: null,
  protocol: 'ssh',
  reason: null,
  clientAddr: '10.0.0.1',
  channel: 'ssh',
};

/** Runs the gate; `on` sees each step (and may act on the engine) before the next is awaited. */
async function run(
  ports: AccessPorts,
  on: (s: AccessStep, i: number) => void = () => {},
  signal = new AbortController().signal,
  q = query,
): Promise<AccessStep[]> {
  const steps: AccessStep[] = [];
  for await (const s of obtain(ports, q, signal)) {
    steps.push(s);
    on(s, steps.length - 1);
  }
  return steps;
}

test('granted at once: by the rule alone, or by an earlier grant with its window', async () => {
  const { ports, engine, bus } = setup();
  assert.deepEqual(await run(ports), [
    { kind: 'granted', approvalId: null, grantEnd: null, deviceId: 7, accountId: 9, allowPortForwarding: false, waited: false },
  ]);
  engine.decision = { outcome: 'allowed', why: 'grant', grantId: 55, requireReason: false, allowPortForwarding: true, accountId: 9 };
  engine.make({ id: 55, status: 'approved', grantStart: 0, grantEnd: 123_456_789_000_000 });
  const [g] = await run(ports);
  assert.deepEqual(g, {
    kind: 'granted',
    approvalId: 55,
    grantEnd: 123_456,
    deviceId: 7,
    accountId: 9,
    allowPortForwarding: true,
    waited: false,
  });
  assert.equal(bus.listeners, 0);
});

test('a cached grant the database no longer holds is not used: events are taken in first', async () => {
  const { ports, engine, bus } = setup();
  engine.decision = { outcome: 'allowed', why: 'grant', grantId: 55, requireReason: false, allowPortForwarding: true, accountId: 9 };
  engine.make({ id: 55, status: 'revoked', grantStart: 0, grantEnd: 1 });
  // Still cached after the events (their poll missed it): refused, never granted.
  const [still] = await run(ports);
  assert.equal(still.kind, 'refused');
  assert.ok(bus.kicks >= 2);
  // Once the revocation's event has arrived, the cache asks for approval again.
  bus.kick = async () => {
    bus.kicks++;
    engine.decision = approvalRequired(route([[2]]));
  };
  const steps = await run(ports, (s) => {
    if (s.kind === 'waiting') engine.set(s.request.id, 'approval.approved', { status: 'approved' });
  });
  assert.equal(steps[0].kind, 'waiting', 'a new request, not the revoked grant');
});

test('granted after a wait: one waiting update naming the approvers, then the grant', async () => {
  const { ports, engine, bus, waits } = setup();
  engine.decision = approvalRequired(route([[2, 3]]));
  engine.onRequest = async () => ({
    outcome: 'waiting',
    request: engine.make({ route: route([[2, 3]]) }),
    created: true,
    reminded: false,
    decision: engine.decision,
  });
  let heldWhileWaiting = -1;
  const steps = await run(ports, (s) => {
    if (s.kind !== 'waiting') return;
    heldWhileWaiting = waits.now;
    engine.set(s.request.id, 'approval.approved', { status: 'approved', grantEnd: 999 });
  });
  assert.deepEqual([heldWhileWaiting, waits.now, waits.begun], [1, 0, ['ssh']], 'counted as waiting while it waits, not after');
  assert.equal(steps.length, 2);
  const w = steps[0];
  assert.ok(w.kind === 'waiting');
  assert.deepEqual(w.approvers, [
    { id: 2, username: 'bob', displayName: 'Bob Builder' },
    { id: 3, username: 'carol', displayName: 'carol' },
  ]);
  assert.deepEqual([w.level, w.levels, w.reused, w.account, w.device, w.why], [1, 1, false, 'root', 'web01', 'workflow wf']);
  assert.deepEqual(steps[1], {
    kind: 'granted',
    approvalId: w.request.id,
    grantEnd: 999,
    deviceId: 7,
    accountId: 9,
    allowPortForwarding: true,
    waited: true,
  });
  assert.equal(bus.kicks, 1, 'the bus is polled once before asking');
  assert.equal(bus.listeners, 0, 'unsubscribed at the end');
});

test('auto-approved or allowed by the time it asks: granted without waiting', async () => {
  const { ports, engine } = setup();
  engine.decision = approvalRequired(route([[2]]));
  engine.onRequest = async () => ({
    outcome: 'approved',
    request: engine.make({ status: 'approved', grantEnd: 42 }),
    created: true,
    reminded: false,
    decision: engine.decision,
  });
  const [g] = await run(ports);
  assert.ok(g.kind === 'granted' && g.approvalId === 100 && g.grantEnd === 42 && !g.waited);
});

test('a reused request says so; a decision published while the request is made is not missed', async () => {
  const { ports, engine } = setup();
  engine.decision = approvalRequired(route([[2]]));
  engine.onRequest = async () => {
    const r = engine.make();
    // Approved "elsewhere" before request() even returns: the gate already listens.
    engine.set(r.id, 'approval.approved', { status: 'approved', grantEnd: 5 });
    return { outcome: 'waiting', request: r, created: false, reminded: false, decision: engine.decision };
  };
  const steps = await run(ports);
  assert.deepEqual(
    steps.map((s) => s.kind),
    ['granted'],
  );

  engine.onRequest = async () => ({
    outcome: 'waiting',
    request: engine.make(),
    created: false,
    reminded: true,
    decision: engine.decision,
  });
  const more = await run(ports, (s) => {
    if (s.kind === 'waiting') engine.set(s.request.id, 'approval.approved', { status: 'approved' });
  });
  assert.ok(more[0].kind === 'waiting' && more[0].reused);
});

test('multi-level: each level approved is an update naming the next approvers', async () => {
  const { ports, engine } = setup();
  engine.decision = approvalRequired(route([[2], [3, 4]]));
  engine.onRequest = async () => ({
    outcome: 'waiting',
    request: engine.make({ route: route([[2], [3, 4]]) }),
    created: true,
    reminded: false,
    decision: engine.decision,
  });
  const steps = await run(ports, (s) => {
    if (s.kind !== 'waiting') return;
    if (s.level === 1) engine.set(s.request.id, 'approval.level-approved', { currentLevel: 1 });
    else engine.set(s.request.id, 'approval.approved', { status: 'approved' });
  });
  const levels = steps.flatMap((s) => (s.kind === 'waiting' ? [[s.level, s.levels, s.approvers.map((a) => a.username)]] : []));
  assert.deepEqual(levels, [
    [1, 2, ['bob']],
    [2, 2, ['carol', 'dave']],
  ]);
  assert.equal(steps.at(-1)!.kind, 'granted');
});

test('reminded and escalated updates; a partial vote changes nothing visible', async () => {
  const { ports, engine } = setup();
  engine.decision = approvalRequired(route([[2]]));
  const steps = await run(ports, (s, i) => {
    const id = 100;
    if (i === 0) {
      engine.set(id, 'approval.vote', {});
      engine.set(id, 'approval.reminder', { lastNotifiedAt: 1 });
    }
    if (s.kind === 'reminded') {
      const r = engine.requests.get(id)!;
      engine.set(id, 'approval.escalated', { route: { ...r.route, levels: [{ ...r.route.levels[0], escalatedApproverIds: [4] }] } });
    }
    if (s.kind === 'escalated') engine.set(id, 'approval.approved', { status: 'approved' });
  });
  assert.deepEqual(
    steps.map((s) => s.kind),
    ['waiting', 'reminded', 'escalated', 'granted'],
  );
  const esc = steps[2];
  assert.ok(esc.kind === 'escalated');
  assert.deepEqual(
    esc.approvers.map((a) => a.username),
    ['bob', 'dave'],
  );
});

test('denied by policy, or the device does not exist: one answer', async () => {
  const { ports, engine } = setup();
  engine.decision = { outcome: 'denied', why: 'no rule' };
  const [a] = await run(ports);
  assert.ok(a.kind === 'refused' && a.reason === 'denied');
  engine.decision = { outcome: 'allowed', why: 'rule', requireReason: false, allowPortForwarding: false, accountId: 9 };
  const [b] = await run(ports, undefined, undefined, { ...query, device: 'nope' });
  assert.deepEqual(b, a);
});

test('rejected: who decided and their comment', async () => {
  const { ports, engine } = setup();
  engine.decision = approvalRequired(route([[2]]));
  const steps = await run(ports, (s) => {
    if (s.kind === 'waiting')
      engine.set(s.request.id, 'approval.rejected', { status: 'rejected', decidedBy: 2, decisionComment: 'not today' });
  });
  const out = steps.at(-1)!;
  assert.ok(out.kind === 'refused' && out.reason === 'rejected');
  assert.deepEqual([out.decidedBy, out.comment, out.request.id], ['bob', 'not today', 100]);
});

test('expired: read at the deadline even when no event comes (a late sweeper)', async () => {
  const { ports, engine, clock } = setup();
  engine.decision = approvalRequired(route([[2]]));
  engine.onRequest = async () => ({
    outcome: 'waiting',
    request: engine.make({ expiresAt: clock.now() + 20 }),
    created: true,
    reminded: false,
    decision: engine.decision,
  });
  const t0 = Date.now();
  // The gate's timer does not hold a process open (a server's sockets do); this test holds it.
  const hold = setInterval(() => {}, 1000);
  const steps = await run(ports, (s) => {
    // What get() reads once the deadline passed (the engine expires it on read); no event is published.
    if (s.kind === 'waiting') engine.requests.set(s.request.id, { ...s.request, status: 'expired' });
  });
  const out = steps.at(-1)!;
  clearInterval(hold);
  assert.ok(out.kind === 'refused' && out.reason === 'expired');
  assert.equal(steps[0].kind === 'waiting' && steps[0].until, clock.now() + 20);
  assert.ok(Date.now() - t0 < 2000);
});

test('cancelled: by the caller through cancel(); the caller leaving (signal) keeps the request waiting', async () => {
  const { ports, engine, bus, waits } = setup();
  engine.decision = approvalRequired(route([[2]]));
  const stream = obtain(ports, query, new AbortController().signal);
  const kinds: string[] = [];
  for await (const s of stream) {
    kinds.push(s.kind === 'refused' ? `refused:${s.reason}` : s.kind);
    if (s.kind === 'waiting') stream.cancel();
  }
  assert.deepEqual(kinds, ['waiting', 'refused:cancelled']);
  assert.equal(engine.requests.get(100)!.status, 'cancelled');

  const ac = new AbortController();
  const steps = await run(ports, (s) => s.kind === 'waiting' && ac.abort(), ac.signal);
  assert.deepEqual(
    steps.map((s) => (s.kind === 'refused' ? s.reason : s.kind)),
    ['waiting', 'left'],
  );
  assert.equal(engine.requests.get(101)!.status, 'waiting');
  assert.equal(bus.listeners, 0);
  assert.equal(waits.now, 0, 'a cancelled or abandoned wait is no longer counted');
});

test('the engine refuses to create the request: no approver, reason required, instant approval off', async () => {
  const { ports, engine } = setup();
  engine.decision = approvalRequired(route([[2]]));
  const cases: [GatehouseError, string][] = [
    [new GatehouseError('no_approver', 'no eligible approver for this request (x)'), 'no-approver'],
    [new GatehouseError('reason_required', 'a reason is required (at least 10 characters)', 'reason'), 'reason-required'],
    [new GatehouseError('forbidden', 'instant approval is disabled for ssh: request ahead'), 'not-allowed'],
    [new GatehouseError('forbidden', 'no access rule allows this'), 'denied'],
  ];
  for (const [err, reason] of cases) {
    engine.onRequest = async () => {
      throw err;
    };
    const [out] = await run(ports);
    assert.ok(out.kind === 'refused' && out.reason === reason && 'message' in out && out.message === err.message, reason);
  }
});

test('fails closed: the store down while deciding, asking or reading is a refusal, never a grant', async () => {
  const { ports, engine, bus } = setup();
  engine.decision = approvalRequired(route([[2]]));
  engine.onRequest = async () => {
    throw new Error('connection refused');
  };
  const [a] = await run(ports);
  assert.ok(a.kind === 'refused' && a.reason === 'error' && String(a.error).includes('connection refused'));
  const broken: AccessPorts = {
    ...ports,
    approvals: {
      ...engine,
      decide: async () => {
        throw new Error('store down');
      },
      request: (i) => engine.request(i),
      get: (id) => engine.get(id),
      cancel: (id) => engine.cancel(id),
    },
  };
  const [b] = await run(broken);
  assert.ok(b.kind === 'refused' && b.reason === 'error');
  // Policy unreadable while waiting: the wait ends refused.
  engine.onRequest = async () => ({
    outcome: 'waiting',
    request: engine.make(),
    created: true,
    reminded: false,
    decision: engine.decision,
  });
  let reads = 0;
  const flaky: AccessPorts = {
    ...ports,
    policy: {
      current: async () => {
        if (++reads > 2) throw new Error('store down');
        return policy;
      },
    },
  };
  const steps = await run(
    flaky,
    (s) => s.kind === 'waiting' && engine.set(s.request.id, 'approval.rejected', { status: 'rejected', decidedBy: 2 }),
  );
  const out = steps.at(-1)!;
  assert.ok(out.kind === 'refused' && out.reason === 'error');
  assert.equal(bus.listeners, 0);
});

test('untilDecided: the status once decided, waiting when time runs out, undefined for no such request', async () => {
  const { ports, engine } = setup();
  const r = engine.make();
  assert.equal(await untilDecided(ports, 999, new AbortController().signal), undefined);
  const p = untilDecided(ports, r.id, new AbortController().signal);
  await new Promise((res) => setImmediate(res));
  engine.set(r.id, 'approval.vote', {});
  engine.set(r.id, 'approval.approved', { status: 'approved' });
  assert.equal(await p, 'approved');
  const r2 = engine.make();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  assert.equal(await untilDecided(ports, r2.id, ac.signal), 'waiting');
  engine.set(r2.id, 'approval.rejected', { status: 'rejected' });
  assert.equal(await untilDecided(ports, r2.id, new AbortController().signal), 'rejected');
});
