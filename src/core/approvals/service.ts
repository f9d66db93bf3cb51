// The approval engine: create, decide, cancel, revoke, expire, escalate. Every transition is one
// conditional update inside a transaction that first locks the request row, so under any race exactly
// one terminal state wins and the loser gets a clear "already decided" answer.
import { GatehouseError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Store, TxStore } from '../ports/store.js';
import type { EventBus } from '../events.js';
import { decide, denialReason, NO_ACCESS } from '../policy/decide.js';
import type { GrantCache, PolicyCache } from '../policy/cache.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { grantCoverage, grantScopeOf, type GrantScope } from '../policy/scope.js';
import type { ApprovalRequest, ApprovalStatus, Channel, Decision, Delegation, Protocol, User } from '../types.js';
import { eligibility, effectiveStatus } from './rules.js';
import { createInTx } from './create.js';
import { maySeeRequest, mayEscalate, mayRevoke, type DeciderFactor, type FactorProof } from './approver.js';
import { decisionPasskey, passkeyDetails, type DecisionPasskeys } from './passkey-rule.js';
import { PASSKEY_PARAM, type DecisionAction } from '../passkeys.js';
import {
  alreadyDecided,
  checkReason,
  cleanComment,
  escalateAt,
  foreign,
  requestWindow,
  type DecideOpts,
  type ParamSource,
  type RequestInput,
  type RequestResult,
} from './inputs.js';

export { cleanComment, type DecideOpts, type ParamSource, type RequestInput, type RequestResult };

export class ApprovalService {
  constructor(
    private readonly store: Store,
    private readonly policy: PolicyCache,
    private readonly grants: GrantCache,
    private readonly params: ParamSource,
    private readonly clock: Clock,
    private readonly bus?: EventBus,
    private readonly factor?: DeciderFactor,
    private readonly passkeys?: DecisionPasskeys,
  ) {}

  /** Must `user` prove a second factor to decide now? (The console and the email link ask it before deciding.) */
  async factorRequiredToDecide(user: User): Promise<boolean> {
    return this.factor ? this.factor.requiredToDecide(user) : false;
  }

  /** Every decision by a person passes here first: its passkey (when the parameter asks), then the second factor. */
  private async confirm(actor: User, action: DecisionAction, id: number, channel: Channel, proof?: FactorProof, assertion?: unknown) {
    const used = await decisionPasskey(await this.params.params(), this.passkeys, actor, action, id, channel, assertion);
    // A verified passkey assertion (user verification required) is itself a second factor.
    await this.requireFactor(actor, used ? 'factor' : proof);
    return passkeyDetails(used);
  }

  /** A decider who needs a second factor must have proven it. */
  private async requireFactor(actor: User, proof: FactorProof | undefined): Promise<void> {
    if (proof === 'operator' || proof === 'factor') return;
    if (await this.factorRequiredToDecide(actor))
      throw new GatehouseError(
        'second_factor_required',
        `${actor.username} must prove the second factor to decide: sign in to the console again with your code (API tokens: create one from such a session)`,
      );
  }

  /** The first check inside a transition: whoever may not see the request learns nothing of its state. */
  private async authorizeSee(tx: TxStore, r: ApprovalRequest, actor: User, delegations: Delegation[], now: number): Promise<void> {
    if (!maySeeRequest(r, actor, delegations, await tx.decisions(r.id), now)) throw foreign(r.id);
  }

  /** decide() on cached policy and grants: no database query unless policy changed. */
  async decide(username: string, device: string, protocol: Protocol, account?: string): Promise<Decision> {
    const p = await this.policy.current();
    const grantScope = await this.grantScope();
    return decide(p, this.grants.find, { username, device, protocol, account, grantScope, now: this.clock.now() });
  }

  /** approval.grant.scope: what one approved request covers (parameters are cached, no query). */
  async grantScope(): Promise<GrantScope> {
    return grantScopeOf((await this.params.params()).str('approval.grant.scope'));
  }

  /** For policy explain: the scope, and the protocols one grant for `protocol` covers on that account. */
  async grantCoverage(username: string, device: string, protocol: Protocol): Promise<{ scope: GrantScope; covers: Protocol[] }> {
    const scope = await this.grantScope();
    return { scope, covers: grantCoverage(await this.policy.current(), username, device, protocol, scope) };
  }

  /** The administrator's reason for a denial (users only ever see NO_ACCESS); null when not denied. */
  async denialReason(username: string, device: string, protocol: Protocol, account?: string): Promise<string | null> {
    return denialReason(await this.policy.current(), { username, device, protocol, account });
  }

  /** Ask for access: reuses a waiting request, creates one, or reports that access is already allowed. */
  async request(input: RequestInput): Promise<RequestResult> {
    const now = this.clock.now();
    const p = await this.policy.current();
    const params = await this.params.params();
    const reservation = input.start !== undefined || input.end !== undefined;
    const grantScope = grantScopeOf(params.str('approval.grant.scope'));
    const decision = decide(p, reservation ? () => undefined : this.grants.find, { ...input, grantScope, now });
    if (decision.outcome === 'denied') throw new GatehouseError('forbidden', NO_ACCESS);
    if (decision.outcome === 'allowed' && !reservation) return { outcome: 'allowed', decision };
    const user = p.usersByName.get(input.username)!;
    const device = p.devicesByName.get(input.device)!;
    const reason = checkReason(input.reason, decision.requireReason, params);
    if (decision.outcome === 'allowed') {
      // A reservation where no approval is needed: nothing to ask.
      return { outcome: 'allowed', decision };
    }
    const autoAsked = params.bool('auto.approve.when.requester.is.approver') && decision.requesterIsApprover;
    // Auto-approval is the requester deciding. With every decision needing a passkey, which a request
    // cannot carry, the request waits for another approver instead.
    const auto = autoAsked && !params.bool(PASSKEY_PARAM);
    if (auto && input.proof === 'none') await this.requireFactor(user, input.proof);
    if (decision.noApprover && !auto)
      throw new GatehouseError(
        'no_approver',
        `no eligible approver for this request (${decision.why})${autoAsked ? `; auto-approval is off while ${PASSKEY_PARAM} is on` : ''}; ask an administrator to name one`,
      );

    const { grantStart, grantEnd, expiresAt } = requestWindow(input, reservation, params, now);
    const reuseMs = params.int('approval.attempt.reuse.seconds') * 1000;
    const validityMs = params.int('approval.validity.minutes') * 60_000;

    const res = await this.store.tx((tx) =>
      createInTx(tx, {
        input,
        user,
        device,
        decision,
        reason,
        reservation,
        auto,
        now,
        reuseMs,
        validityMs,
        window: { grantStart, grantEnd, expiresAt },
        reuseProtocols: grantCoverage(p, input.username, input.device, input.protocol, grantScope),
      }),
    );
    this.afterCommit(res.request);
    return { outcome: res.request.status === 'approved' ? 'approved' : 'waiting', ...res, decision };
  }

  async approve(id: number, actorName: string, opts: DecideOpts): Promise<ApprovalRequest> {
    return this.decideRequest(id, actorName, 'approve', opts);
  }

  async reject(id: number, actorName: string, opts: DecideOpts): Promise<ApprovalRequest> {
    return this.decideRequest(id, actorName, 'reject', opts);
  }

  private async decideRequest(id: number, actorName: string, what: 'approve' | 'reject', opts: DecideOpts): Promise<ApprovalRequest> {
    const p = await this.policy.current();
    const actor = this.actor(p, actorName);
    const pk = await this.confirm(actor, what, id, opts.channel, opts.proof, opts.passkey);
    const params = await this.params.params();
    const delegations = await this.store.delegationsTo(actor.id, this.clock.now());
    const comment = cleanComment(opts.comment);
    // Every channel (console, API, CLI, mail) meets the same rule.
    if (what === 'reject' && !comment?.trim() && params.bool('approval.reject.comment.required'))
      throw new GatehouseError('invalid', 'A comment is required to reject: say why, the requester reads it', 'comment');
    const see = (tx: TxStore, r: ApprovalRequest, now: number) => this.authorizeSee(tx, r, actor, delegations, now);
    const result = await this.transition(id, see, async (tx, r, now) => {
      if (r.requesterId === actor.id) throw new GatehouseError('self_approval', `you cannot ${what} your own request #${id}`);
      const decisions = await tx.decisions(id);
      const elig = eligibility(r, actor, delegations, decisions, now);
      if (!elig.ok) throw new GatehouseError('forbidden', elig.why);
      await tx.insertDecision({
        requestId: id,
        level: r.currentLevel,
        approverId: actor.id,
        onBehalfOf: elig.onBehalfOf,
        decision: what,
        channel: opts.channel,
        comment,
        createdAt: now,
      });
      const audit = { actor: actor.username, actorId: actor.id, channel: opts.channel, targetType: 'approval', targetId: id };
      const base = { status: 'waiting' as const, level: r.currentLevel };
      if (what === 'reject') {
        const patch = { status: 'rejected' as const, decidedAt: now, decidedBy: actor.id, decisionComment: comment };
        if (!(await tx.updateRequest(id, base, patch))) throw alreadyDecided(r);
        await tx.appendAudit(
          { ...audit, action: 'approval.reject', details: { level: r.currentLevel, comment, onBehalfOf: elig.onBehalfOf, ...pk } },
          now,
        );
        return { ...r, ...patch };
      }
      const approvers = new Set(
        [...decisions, { level: r.currentLevel, decision: 'approve', approverId: actor.id, onBehalfOf: elig.onBehalfOf }]
          .filter((d) => d.level === r.currentLevel && d.decision === 'approve')
          .map((d) => d.onBehalfOf ?? d.approverId),
      );
      const level = r.route.levels[r.currentLevel];
      if (approvers.size < level.quorum) {
        await tx.appendAudit(
          {
            ...audit,
            action: 'approval.approve-partial',
            details: { level: r.currentLevel, comment, count: approvers.size, quorum: level.quorum, ...pk },
          },
          now,
        );
        return { ...r, event: 'approval.vote' };
      }
      if (r.currentLevel + 1 < r.route.levels.length) {
        const patch = {
          currentLevel: r.currentLevel + 1,
          levelStartedAt: now,
          escalateAt: escalateAt(r.route.levels[r.currentLevel + 1], now),
        };
        if (!(await tx.updateRequest(id, base, patch))) throw alreadyDecided(r);
        await tx.appendAudit({ ...audit, action: 'approval.level-approved', details: { level: r.currentLevel, comment, ...pk } }, now);
        return { ...r, ...patch, event: 'approval.level-approved' };
      }
      const validityMs = params.int('approval.validity.minutes') * 60_000;
      const window =
        r.kind === 'reservation' ? { grantStart: r.grantStart, grantEnd: r.grantEnd } : { grantStart: now, grantEnd: now + validityMs };
      const patch = { status: 'approved' as const, decidedAt: now, decidedBy: actor.id, decisionComment: comment, ...window };
      if (!(await tx.updateRequest(id, base, patch))) throw alreadyDecided(r);
      await tx.appendAudit(
        {
          ...audit,
          action: 'approval.approve',
          details: { level: r.currentLevel, comment, onBehalfOf: elig.onBehalfOf, grantEnd: window.grantEnd, ...pk },
        },
        now,
      );
      return { ...r, ...patch };
    });
    return result;
  }

  /** The requester (or an admin) withdraws a waiting request. */
  async cancel(id: number, actorName: string, channel: Channel, proof?: FactorProof, passkey?: unknown): Promise<ApprovalRequest> {
    const p = await this.policy.current();
    const actor = this.actor(p, actorName);
    // Only the requester or an admin may cancel; an admin cancelling someone else's request decides it.
    const deciding = actor.isAdmin && (await this.store.getRequest(id))?.requesterId !== actor.id;
    const unproven = deciding
      ? await this.confirm(actor, 'cancel', id, channel, proof, passkey).then(
          () => null,
          (e: unknown) => e,
        )
      : null;
    const see = async (_tx: TxStore, r: ApprovalRequest) => {
      if (r.requesterId !== actor.id && !actor.isAdmin)
        throw new GatehouseError('forbidden', `only the requester (or an admin) can cancel request #${id}`);
      if (r.requesterId !== actor.id && unproven) throw unproven;
    };
    return this.transition(id, see, async (tx, r, now) => {
      const patch = { status: 'cancelled' as const, decidedAt: now, decidedBy: actor.id };
      if (!(await tx.updateRequest(id, { status: 'waiting' }, patch))) throw alreadyDecided(r);
      await tx.appendAudit(
        { actor: actor.username, actorId: actor.id, channel, action: 'approval.cancel', targetType: 'approval', targetId: id },
        now,
      );
      return { ...r, ...patch };
    });
  }

  /** An approver of the request, or an admin, ends an approved grant; live sessions end with it. */
  async revoke(id: number, actorName: string, opts: DecideOpts): Promise<ApprovalRequest> {
    const p = await this.policy.current();
    const actor = this.actor(p, actorName);
    const pk = await this.confirm(actor, 'revoke', id, opts.channel, opts.proof, opts.passkey);
    const comment = cleanComment(opts.comment);
    const delegations = await this.store.delegationsTo(actor.id, this.clock.now());
    // A delegate may revoke what the delegator may (the delegation must be in force now).
    const see = async (tx: TxStore, r: ApprovalRequest, now: number) => {
      await this.authorizeSee(tx, r, actor, delegations, now);
      if (!mayRevoke(r, actor, delegations, now))
        throw new GatehouseError('forbidden', `only an approver of request #${id}, their delegate or an admin can revoke it`);
    };
    return this.transition(
      id,
      see,
      async (tx, r, now) => {
        const patch = {
          status: 'revoked' as const,
          decidedBy: actor.id,
          decisionComment: comment,
          grantEnd: Math.min(r.grantEnd ?? now, now),
        };
        if (!(await tx.updateRequest(id, { status: 'approved' }, patch))) throw alreadyDecided(r);
        await tx.appendAudit(
          {
            actor: actor.username,
            actorId: actor.id,
            channel: opts.channel,
            action: 'approval.revoke',
            targetType: 'approval',
            targetId: id,
            details: { comment, ...pk },
          },
          now,
        );
        return { ...r, ...patch };
      },
      'approved',
    );
  }

  /** Moves a waiting level's authority up: its approvers are joined by the next level's (the admins at the last level). */
  async escalate(id: number, actorName: string | null, channel: Channel, proof?: FactorProof, passkey?: unknown): Promise<ApprovalRequest> {
    const p = await this.policy.current();
    const actor = actorName === null ? null : this.actor(p, actorName);
    const pk = actor ? await this.confirm(actor, 'escalate', id, channel, proof, passkey) : {};
    const delegations = actor ? await this.store.delegationsTo(actor.id, this.clock.now()) : [];
    const see = async (tx: TxStore, r: ApprovalRequest, now: number) => {
      if (actor) await this.authorizeSee(tx, r, actor, delegations, now);
    };
    return this.transition(id, see, async (tx, r, now) => {
      const level = r.route.levels[r.currentLevel];
      if (actor && !mayEscalate(r, actor, delegations, now))
        throw new GatehouseError(
          'forbidden',
          `only an approver of the current level, their delegate or an admin can escalate request #${id}`,
        );
      if (level.escalatedApproverIds)
        throw new GatehouseError('conflict', `request #${id} is already escalated at level ${r.currentLevel + 1}`);
      const next = r.route.levels[r.currentLevel + 1];
      const added = (next ? next.approverIds : p.adminIds).filter((u) => u !== r.requesterId);
      const route = {
        ...r.route,
        levels: r.route.levels.map((l, i) => (i === r.currentLevel ? { ...l, escalatedApproverIds: added } : l)),
      };
      if (!(await tx.updateRequest(id, { status: 'waiting', level: r.currentLevel }, { route, lastNotifiedAt: now, escalateAt: null })))
        throw alreadyDecided(r);
      await tx.appendAudit(
        {
          actor: actor?.username ?? 'system',
          actorId: actor?.id ?? null,
          channel,
          action: 'approval.escalate',
          targetType: 'approval',
          targetId: id,
          details: { level: r.currentLevel, added: added.map((u) => p.userName(u)), ...pk },
        },
        now,
      );
      return { ...r, route, lastNotifiedAt: now, escalateAt: null, event: 'approval.escalated' };
    });
  }

  /** Reads a request; a waiting one past its deadline is expired on the spot (and persisted). */
  async get(id: number): Promise<ApprovalRequest | undefined> {
    const r = await this.store.getRequest(id);
    if (r && r.status === 'waiting' && effectiveStatus(r, this.clock.now()) === 'expired') {
      await this.expireOne(id);
      return this.store.getRequest(id);
    }
    return r;
  }

  /** Sweeper: expire every waiting request past its deadline. Safe to run on several nodes at once. */
  async expireDue(): Promise<number> {
    let n = 0;
    for (const id of await this.store.waitingIds({ expiredBy: this.clock.now(), limit: 500 })) if (await this.expireOne(id)) n++;
    return n;
  }

  /** Escalation timer: escalate waiting levels whose escalate-after has passed. */
  async escalateDue(): Promise<number> {
    const now = this.clock.now();
    let n = 0;
    // Only requests whose current level is due (an indexed column), not every waiting request.
    for (const id of await this.store.waitingIds({ escalateBy: now, limit: 500 })) {
      const r = await this.store.getRequest(id);
      const level = r?.route.levels[r.currentLevel];
      if (!r || !level || level.escalateAfterMinutes === null || level.escalatedApproverIds) continue;
      if (now < r.levelStartedAt + level.escalateAfterMinutes * 60_000) continue;
      try {
        await this.escalate(id, null, 'system');
        n++;
      } catch (err) {
        if (!(err instanceof GatehouseError)) throw err;
      }
    }
    return n;
  }

  private async expireOne(id: number): Promise<boolean> {
    try {
      await this.transition(
        id,
        async () => {},
        async () => {
          throw new Error('unreachable: expiry is handled by transition()');
        },
      );
    } catch (err) {
      if (err instanceof GatehouseError && err.code === 'expired') return true;
      if (err instanceof GatehouseError) return false;
      throw err;
    }
    return false;
  }

  /**
   * Runs one transition on a locked request. A waiting request past its deadline is expired here
   * (committed) and the caller gets an 'expired' error: a late sweeper never lets it be decided.
   * `authorize` runs first: a caller who may not act on the request gets 403 whatever its status.
   */
  private async transition(
    id: number,
    authorize: (tx: TxStore, r: ApprovalRequest, now: number) => Promise<void>,
    fn: (tx: TxStore, r: ApprovalRequest, now: number) => Promise<ApprovalRequest & { event?: string }>,
    from: ApprovalStatus = 'waiting',
  ): Promise<ApprovalRequest> {
    const now = this.clock.now();
    const out = await this.store.tx(async (tx) => {
      const r = await tx.lockRequest(id);
      if (!r) throw new GatehouseError('not_found', `approval request #${id} not found`);
      await authorize(tx, r, now);
      if (r.status === 'waiting' && effectiveStatus(r, now) === 'expired') {
        const patch = { status: 'expired' as const, decidedAt: now };
        if (await tx.updateRequest(id, { status: 'waiting' }, patch)) {
          await tx.appendAudit(
            { actor: 'system', channel: 'system', action: 'approval.expire', targetType: 'approval', targetId: id },
            now,
          );
          const expired = { ...r, ...patch };
          await tx.appendEvent('approval.expired', { request: expired }, now);
          return { expired: true, request: expired };
        }
      }
      if (r.status !== from) throw alreadyDecided(r);
      const next = await fn(tx, r, now);
      const { event, ...request } = next;
      await tx.appendEvent(event ?? `approval.${request.status}`, { request }, now);
      return { expired: false, request };
    });
    if (out.expired) {
      this.afterCommit(out.request);
      throw new GatehouseError('expired', `approval request #${id} has expired and can no longer be decided`);
    }
    this.afterCommit(out.request);
    return out.request;
  }

  private afterCommit(r: ApprovalRequest): void {
    this.grants.put(r);
    void this.bus?.written();
  }

  private actor(p: PolicySnapshot, name: string): User {
    const u = p.usersByName.get(name);
    if (!u || u.disabled) throw new GatehouseError('not_found', `unknown user '${name}'`);
    return u;
  }
}
