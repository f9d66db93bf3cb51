// The outbox builder: turns committed approval events into outbox rows, durably and exactly once.
//
// The approval engine writes an `events` row in the same transaction as every transition. This builder
// consumes those rows: for each event it inserts, in ONE transaction, a `mail_event_done` marker (primary
// key = event id, insert-if-absent) and the event's outbox rows. A second builder (another process or
// node) that reaches the same event finds the marker and inserts nothing, so every event yields its mail
// exactly once, and a crash anywhere leaves either nothing (the event is picked up again) or everything.
// Events can commit out of id order on PostgreSQL, so the scan is "every event above a low-water cursor
// without a marker"; the cursor only advances past events older than a minute that all have markers.
import { levelApprovers } from '../core/approvals/rules.js';
import type { MailTx } from '../core/ports/mail.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { ApprovalRequest, Delegation, GatehouseEvent } from '../core/types.js';
import { delegatesToTell } from '../core/delegations.js';
import type { Services } from '../services.js';
import { MAIL_EVENTS, mailsForEvent, type ComposeContext, type OutMail } from './compose.js';
import { plusAddress, type MailConfig } from './config.js';
import { createToken, killTokens, replySecret } from './tokens.js';
import { requestOf } from '../core/events.js';

const SCANNED = [...MAIL_EVENTS, 'approval.cancelled'];
const TERMINAL = ['approval.approved', 'approval.rejected', 'approval.expired', 'approval.revoked', 'approval.cancelled'];
const LATE_COMMIT_MS = 60_000;
/** Sent and failed mail, spent links and seen Message-IDs are kept this long (for support), then pruned. */
const KEEP_MS = 30 * 24 * 3600_000;
const HOUSEKEEPING_EVERY_MS = 10 * 60_000;

/**
 * Inserts one outbox row unless that mail exists: the same key, or the same request × recipient × kind ×
 * occurrence (unique index, migration 014): exactly once by construction, whichever builder, node or event
 * gets there first.
 */
export function enqueue(tx: Pick<MailTx, 'enqueue'>, m: OutMail, now: number): Promise<boolean> {
  return tx.enqueue(m, now);
}

interface Inputs {
  policy: PolicySnapshot;
  instance: string;
  factorIds: Set<number>;
  delegates: Map<number, Delegation>;
}

export class OutboxBuilder {
  private running: Promise<number> | null = null;
  private again = false;
  private lastHousekeeping = 0;
  lastError: unknown = null;

  constructor(
    private readonly s: Services,
    private readonly cfg: MailConfig,
    private readonly onQueued: () => void,
  ) {}

  /** Build now; concurrent calls coalesce into one more pass. */
  kick(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.runOnce()
      .catch((err) => {
        this.lastError = err;
        this.s.log.warn({ err: String(err) }, 'mail outbox builder failed; will retry');
        return 0;
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  /** The cursor's row is known to exist: later passes only read it. */
  private cursorRow = false;

  private async cursor(): Promise<number> {
    const c = await this.s.mail.eventCursor(!this.cursorRow);
    this.cursorRow = c !== undefined;
    if (c === undefined) throw new Error('the mail cursor row is missing; it is created again on the next pass');
    return c;
  }

  async runOnce(): Promise<number> {
    const cursor = await this.cursor();
    const events = await this.s.mail.pendingEvents(cursor, SCANNED, 200);
    let queued = 0;
    for (const e of events) {
      try {
        queued += await this.buildOne(e);
      } catch (err) {
        this.lastError = err;
        this.s.log.warn({ err: String(err), event: e.id, type: e.type }, 'could not build mail for an event; will retry');
      }
    }
    if (queued) this.onQueued();
    await this.s.mail.advanceCursor(cursor, SCANNED, Date.now() - LATE_COMMIT_MS);
    if (Date.now() - this.lastHousekeeping > HOUSEKEEPING_EVERY_MS) {
      this.lastHousekeeping = Date.now();
      await this.s.mail.housekeep(Date.now() - KEEP_MS, this.s.clock.now() - KEEP_MS);
    }
    return queued;
  }

  /** Policy and parameters, read before the transaction (SQLite has one connection: no reads on it inside). */
  private async inputs(r: ApprovalRequest | undefined): Promise<Inputs> {
    let policy = await this.s.policy.current();
    const needed = r ? [r.requesterId, ...r.route.levels.flatMap((_, i) => levelApprovers(r, i))] : [];
    if (needed.some((id) => !policy.usersById.has(id))) {
      // The event may be newer than our cached policy (a user added a moment ago by another process).
      this.s.policy.invalidate();
      policy = await this.s.policy.current();
    }
    // Whoever holds the current approvers' rights now is mailed with them.
    const asked = r ? [...levelApprovers(r, r.currentLevel), ...(r.route.levels[r.currentLevel]?.escalatedApproverIds ?? [])] : [];
    const delegates = r ? await delegatesToTell(this.s.store, policy, asked, r.requesterId, this.s.clock.now()) : new Map();
    // Approvers who must prove a second factor to decide get mail without reply-to-decide.
    const factorIds = new Set<number>();
    for (const id of new Set([...needed.slice(1), ...delegates.keys()])) {
      const u = policy.usersById.get(id);
      if (u && (await this.s.approvals.factorRequiredToDecide(u))) factorIds.add(id);
    }
    return { policy, instance: (await this.s.params.params()).str('instance.name'), factorIds, delegates };
  }

  private context(t: MailTx, r: ApprovalRequest, current: ApprovalRequest | undefined, now: number, inp: Inputs): ComposeContext {
    return {
      policy: inp.policy,
      instance: inp.instance,
      publicUrl: this.cfg.publicUrl,
      domain: this.cfg.domain,
      templatesDirs: this.cfg.templatesDirs,
      current,
      now,
      token: (approverId, action, level) => createToken(t, r.id, approverId, action, level, now),
      replySecret: () => replySecret(t, r.id, now),
      replyTo: (secret) => plusAddress(this.cfg.replyAddress, secret),
      needsFactor: (userId) => inp.factorIds.has(userId),
      delegates: inp.delegates,
    };
  }

  private async buildOne(e: GatehouseEvent): Promise<number> {
    const r = requestOf(e);
    const now = this.s.clock.now();
    const inp = await this.inputs(r);
    return this.s.mail.buildEvent(e.id, Date.now(), async (t) => {
      if (!r || typeof r.id !== 'number') return 0;
      const current = await t.getRequest(r.id);
      if (TERMINAL.includes(e.type)) await killTokens(t, r.id, now);
      if (e.type === 'approval.level-approved') await killTokens(t, r.id, now, { belowLevel: r.currentLevel });
      const mails = await mailsForEvent(this.context(t, r, current, now, inp), e);
      let n = 0;
      for (const m of mails) if (await enqueue(t, m, Date.now())) n++;
      return n;
    });
  }
}
