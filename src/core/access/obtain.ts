// The one access gate: decide(), then, when approval is needed, create the request (or reuse the
// waiting one) and follow it to its decision. It subscribes to the event bus before the request exists,
// so no decision can slip through between the two. Protocols only render what it yields.
import { levelApprovers } from '../approvals/rules.js';
import { NO_ACCESS } from '../policy/decide.js';
import type { ApprovalRequest } from '../types.js';
import { ask } from './ask.js';
import { RequestFeed, type Seen } from './feed.js';
import {
  isOutcome,
  type AccessPorts,
  type AccessQuery,
  type AccessStep,
  type AccessStream,
  type Granted,
  type Refused,
  type WaitingState,
} from './types.js';

type Base = Omit<Granted, 'approvalId' | 'grantEnd' | 'waited'>;

/** Updates while the request waits, then the outcome (always last). Aborting `signal` stops waiting. */
export function obtain(ports: AccessPorts, q: AccessQuery, signal: AbortSignal): AccessStream {
  let cancel = () => {};
  const steps = run(ports, q, signal, (fn) => (cancel = fn));
  return { [Symbol.asyncIterator]: () => steps, cancel: () => cancel() };
}

/** Follows a stream to its outcome, handing each update to `onUpdate`. */
export async function settle(
  stream: AccessStream,
  onUpdate: (u: Exclude<AccessStep, Granted | Refused>) => void,
): Promise<Granted | Refused> {
  for await (const step of stream) {
    if (isOutcome(step)) return step;
    onUpdate(step);
  }
  return { kind: 'refused', reason: 'error', error: new Error('the access gate ended without an outcome') };
}

async function* run(
  ports: AccessPorts,
  q: AccessQuery,
  signal: AbortSignal,
  onCancel: (fn: () => void) => void,
): AsyncGenerator<AccessStep> {
  let start: Granted | Refused | { kind: 'ask'; base: Base };
  try {
    start = await begin(ports, q);
  } catch (error) {
    yield { kind: 'refused', reason: 'error', error };
    return;
  }
  if (start.kind !== 'ask') return yield start;
  const base = start.base;
  // Subscribe first: events of this user are kept until we know which request is ours.
  const feed = new RequestFeed(ports, (r) => r.requesterId === q.user.id, signal);
  try {
    const res = await ask(ports.approvals, {
      username: q.user.username,
      device: q.device,
      account: q.account ?? undefined,
      protocol: q.protocol,
      reason: q.reason,
      clientAddr: q.clientAddr,
      channel: q.channel,
    });
    if ('kind' in res) return yield res;
    if (res.outcome === 'allowed') {
      const grantId = res.decision.outcome === 'allowed' ? res.decision.grantId : undefined;
      return yield allowed(ports, base, grantId);
    }
    if (res.outcome === 'approved') return yield { ...base, approvalId: res.request.id, grantEnd: res.request.grantEnd, waited: false };
    const doneWaiting = ports.sessions.beginWait(q.protocol);
    try {
      yield* follow(ports, q, feed, res.request, !res.created, base, signal, onCancel);
    } finally {
      doneWaiting();
    }
  } catch (error) {
    yield { kind: 'refused', reason: 'error', error };
  } finally {
    feed.close();
  }
}

/** decide(): allowed or denied at once, or the request to make. */
async function begin(ports: AccessPorts, q: AccessQuery): Promise<Granted | Refused | { kind: 'ask'; base: Base }> {
  const decide = () => ports.approvals.decide(q.user.username, q.device, q.protocol, q.account ?? undefined);
  let decision = await decide();
  if (decision.outcome === 'approval-required') {
    // About to ask: first take in events not polled yet, so an approval made a moment ago elsewhere counts.
    await ports.bus.kick();
    decision = await decide();
  } else if (decision.outcome === 'allowed' && decision.grantId !== undefined && !(await grantHolds(ports, decision.grantId))) {
    // The cached grant was revoked (or ended) elsewhere a moment ago and its event has not arrived: take
    // the events in (twice: a poll already running may have begun before the revocation), decide again.
    const stale = decision.grantId;
    await ports.bus.kick();
    await ports.bus.kick();
    decision = await decide();
    if (decision.outcome === 'allowed' && decision.grantId === stale)
      return { kind: 'refused', reason: 'error', error: new Error(`grant ${stale} ended but is still cached`) };
  }
  const device = (await ports.policy.current()).devicesByName.get(q.device);
  if (decision.outcome === 'denied' || !device) return { kind: 'refused', reason: 'denied', message: NO_ACCESS };
  const base: Base = {
    kind: 'granted',
    allowPortForwarding: decision.allowPortForwarding,
    deviceId: device.id,
    accountId: decision.accountId,
  };
  if (decision.outcome === 'allowed') return allowed(ports, base, decision.grantId);
  return { kind: 'ask', base };
}

/** Whether the database still holds the grant the cache allowed by: approved, and inside its window. */
async function grantHolds(ports: AccessPorts, id: number): Promise<boolean> {
  const r = await ports.approvals.get(id);
  const now = ports.clock.now();
  return !!r && r.status === 'approved' && (r.grantStart ?? 0) <= now && (r.grantEnd === null || r.grantEnd > now);
}

/** Allowed by the rule alone (no grant), or by the grant of an earlier approval. */
function allowed(ports: AccessPorts, base: Base, grantId: number | undefined): Granted {
  return {
    ...base,
    approvalId: grantId ?? null,
    grantEnd: grantId !== undefined ? (ports.grants.window(grantId)?.end ?? null) : null,
    waited: false,
  };
}

async function* follow(
  ports: AccessPorts,
  q: AccessQuery,
  feed: RequestFeed,
  first: ApprovalRequest,
  reused: boolean,
  base: Base,
  signal: AbortSignal,
  onCancel: (fn: () => void) => void,
): AsyncGenerator<AccessStep> {
  let current = first;
  const left: Refused = { kind: 'refused', reason: 'left' };

  const state = async (r: ApprovalRequest): Promise<WaitingState> => {
    const p = await ports.policy.current();
    const approvers = levelApprovers(r, r.currentLevel).map((id) => {
      const u = p.usersById.get(id);
      return u ? { id, username: u.username, displayName: u.displayName } : { id };
    });
    const account = (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId)?.name ?? q.account ?? '?';
    return {
      request: r,
      reused,
      device: q.device,
      account,
      approvers,
      level: r.currentLevel + 1,
      levels: r.route.levels.length,
      until: r.expiresAt,
      why: r.route.why,
    };
  };

  const judge = async ({ type, request: r }: Seen): Promise<AccessStep | null> => {
    if (r.id !== current.id) return null;
    switch (r.status) {
      case 'approved':
        return { ...base, approvalId: r.id, grantEnd: r.grantEnd, waited: true };
      case 'rejected': {
        const by = r.decidedBy === null ? undefined : (await ports.policy.current()).usersById.get(r.decidedBy);
        return { kind: 'refused', reason: 'rejected', request: r, decidedBy: by?.username ?? 'an approver', comment: r.decisionComment };
      }
      case 'expired':
      case 'cancelled':
      case 'revoked':
        return { kind: 'refused', reason: r.status, request: r };
      case 'waiting': {
        const levelMoved = r.currentLevel !== current.currentLevel;
        const widened = levelApprovers(r, r.currentLevel).join() !== levelApprovers(current, current.currentLevel).join();
        current = r;
        feed.armExpiry(r);
        if (levelMoved) return { kind: 'waiting', ...(await state(r)) };
        if (widened) return { kind: 'escalated', ...(await state(r)) };
        return type === 'approval.reminder' ? { kind: 'reminded', request: r } : null;
      }
    }
  };

  onCancel(() => {
    ports.approvals.cancel(current.id, q.user.username, q.channel).then(
      (r) => feed.push(r),
      // Decided meanwhile: show whatever it became.
      () => feed.read(current.id),
    );
  });
  if (signal.aborted) return yield left;
  feed.narrow(first.id);
  feed.armExpiry(first);
  // Events that came before we knew which request is ours: a decision among them ends the wait at once.
  for (const seen of feed.inbox.drain()) {
    const step = await judge(seen);
    if (step && isOutcome(step)) return yield step;
  }
  yield { kind: 'waiting', ...(await state(current)) };
  for (;;) {
    const seen = await feed.inbox.next();
    if (signal.aborted || !seen) return yield left;
    const step = await judge(seen);
    if (!step) continue;
    yield step;
    if (isOutcome(step)) return;
  }
}
