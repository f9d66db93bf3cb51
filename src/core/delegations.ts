// Delegation of approval rights: an approver hands their rights to another user for a period. While it
// is in force the delegate may decide what the approver may (core/approvals/approver.ts).
import type { Actor } from './admin/service.js';
import { decisionPasskey, passkeyDetails, type DecisionPasskeys } from './approvals/passkey-rule.js';
import type { ParamSource } from './approvals/inputs.js';
import { GatehouseError } from './errors.js';
import type { Clock } from './ports/clock.js';
import type { DelegationStore } from './ports/delegations.js';
import type { PolicySnapshot } from './policy/snapshot.js';
import type { Delegation } from './types.js';

export interface NewDelegation {
  /** The delegate's username. */
  to: string;
  /** The period, read against the same `now` that checks it (so "+2h" means two hours from that now). */
  period(now: number): { startsAt: number; endsAt: number };
  reason: string | null;
}

export class DelegationService {
  constructor(
    private readonly store: DelegationStore,
    private readonly policy: { current(): Promise<Pick<PolicySnapshot, 'usersByName'>> },
    private readonly clock: Clock,
    private readonly params?: ParamSource,
    private readonly passkeys?: DecisionPasskeys,
  ) {}

  /** Validates and records a delegation from `actor`, audited on the actor's channel. */
  async delegate(actor: Actor, d: NewDelegation, passkey?: unknown): Promise<Delegation> {
    if (actor.id === null) throw new GatehouseError('invalid', 'only a user can delegate approval rights');
    const p = await this.policy.current();
    const to = p.usersByName.get(d.to);
    if (!to || to.disabled) throw new GatehouseError('not_found', `unknown user '${d.to}'`);
    const self = p.usersByName.get(actor.username);
    // approval.decision.requires.passkey covers handing one's approval rights over, too.
    const pk =
      this.params && self
        ? passkeyDetails(await decisionPasskey(await this.params.params(), this.passkeys, self, 'delegate', d.to, actor.channel, passkey))
        : {};
    if (to.id === actor.id) throw new GatehouseError('invalid', 'you cannot delegate to yourself');
    const now = this.clock.now();
    const { startsAt, endsAt } = d.period(now);
    if (endsAt <= startsAt || endsAt <= now) throw new GatehouseError('invalid', 'the delegation must end after it starts, in the future');
    return this.store.insertDelegation(
      { fromUserId: actor.id, toUserId: to.id, startsAt, endsAt, reason: d.reason },
      {
        actor: actor.username,
        actorId: actor.id,
        channel: actor.channel,
        action: 'delegation.create',
        targetType: 'delegation',
        details: { to: d.to, start: startsAt, end: endsAt, ...pk },
      },
      now,
    );
  }

  /** Delegations to `userId` in force now. */
  activeTo(userId: number): Promise<Delegation[]> {
    return this.store.delegationsTo(userId, this.clock.now());
  }

  list(userId?: number): Promise<Delegation[]> {
    return this.store.listDelegations(userId);
  }
}

/**
 * Who is told of a request besides its current approvers: the users holding an approver's rights now.
 * The requester never (four eyes), nor a disabled user. Maps each such delegate to the approver they act for.
 */
export async function delegatesToTell(
  store: Pick<DelegationStore, 'delegationsFrom'>,
  p: Pick<PolicySnapshot, 'usersById'>,
  approverIds: readonly number[],
  requesterId: number,
  now: number,
): Promise<Map<number, Delegation>> {
  const out = new Map<number, Delegation>();
  for (const d of await store.delegationsFrom([...new Set(approverIds)], now)) {
    const u = p.usersById.get(d.toUserId);
    if (!u || u.disabled || d.toUserId === requesterId || approverIds.includes(d.toUserId)) continue;
    if (!out.has(d.toUserId)) out.set(d.toUserId, d);
  }
  return out;
}
