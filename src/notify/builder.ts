// The outbox builder: turns committed approval events into outbox rows, durably and exactly once.
//
// The approval engine writes an `events` row in the same transaction as every transition. This builder
// consumes those rows: for each event it inserts, in ONE transaction, a `mail_event_done` marker (primary
// key = event id, insert-if-absent) and the event's outbox rows. A second builder (another process or
// node) that reaches the same event finds the marker and inserts nothing, so every event yields its mail
// exactly once, and a crash anywhere leaves either nothing (the event is picked up again) or everything.
// Events can commit out of id order on PostgreSQL, so the scan is "every event above a low-water cursor
// without a marker"; the cursor only advances past events older than a minute that all have markers.
import { sql } from 'kysely';
import { levelApprovers } from '../core/approvals/rules.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { ApprovalRequest, GatehouseEvent } from '../core/types.js';
import type { Services } from '../services.js';
import { toRequest } from '../storage/store.js';
import { MAIL_EVENTS, mailsForEvent, type ComposeContext, type OutMail } from './compose.js';
import { plusAddress, type MailConfig } from './config.js';
import { mailDb, type MailDb } from './schema.js';
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
 * occurrence (unique index, migration 014). ON CONFLICT DO NOTHING on either: exactly once by
 * construction, whichever builder, node or event gets there first.
 */
export async function enqueue(db: MailDb, m: OutMail, now: number): Promise<boolean> {
  const r = await db
    .insertInto('mail_outbox')
    .values({
      mail_key: m.key, request_id: m.requestId, kind: m.kind, occurrence: m.occurrence, to_addr: m.to, subject: m.subject, text_body: m.text, html_body: m.html,
      headers: JSON.stringify(m.headers), message_id: m.messageId, status: 'queued', attempts: 0, next_attempt_at: now, lease_until: null,
      claimed_by: null, last_error: null, created_at: now, sent_at: null,
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

interface Inputs {
  policy: PolicySnapshot;
  instance: string;
  factorIds: Set<number>;
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

  private async cursor(db: MailDb): Promise<number> {
    // An insert is a write, and takes SQLite's write lock even when it inserts nothing: only until the
    // row is known to be there (the first pass, or again if it has gone).
    if (!this.cursorRow) await db.insertInto('mail_state').values({ key: 'event_cursor', value: '0' }).onConflict((oc) => oc.column('key').doNothing()).execute();
    const r = await db.selectFrom('mail_state').select('value').where('key', '=', 'event_cursor').executeTakeFirst();
    this.cursorRow = r !== undefined;
    if (!r) throw new Error('the mail cursor row is missing; it is created again on the next pass');
    return Number(r.value);
  }

  private pending(db: MailDb, cursor: number) {
    return db
      .selectFrom('events')
      .where('id', '>', cursor)
      .where('type', 'in', SCANNED)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('mail_event_done').select(sql`1`.as('one')).whereRef('mail_event_done.event_id', '=', 'events.id'))));
  }

  async runOnce(): Promise<number> {
    const db = mailDb(this.s);
    const cursor = await this.cursor(db);
    const rows = await this.pending(db, cursor).selectAll().orderBy('id').limit(200).execute();
    let queued = 0;
    for (const row of rows) {
      const e: GatehouseEvent = { id: row.id, at: row.at, type: row.type, payload: JSON.parse(row.payload) };
      try {
        queued += await this.buildOne(db, e);
      } catch (err) {
        this.lastError = err;
        this.s.log.warn({ err: String(err), event: e.id, type: e.type }, 'could not build mail for an event; will retry');
      }
    }
    if (queued) this.onQueued();
    await this.advance(db, cursor);
    if (Date.now() - this.lastHousekeeping > HOUSEKEEPING_EVERY_MS) {
      this.lastHousekeeping = Date.now();
      await this.housekeep(db);
    }
    return queued;
  }

  private async housekeep(db: MailDb): Promise<void> {
    const before = Date.now() - KEEP_MS;
    await db.deleteFrom('mail_outbox').where('status', 'in', ['sent', 'failed']).where('created_at', '<', before).execute();
    await db.deleteFrom('mail_link_tokens').where('created_at', '<', this.s.clock.now() - KEEP_MS).execute();
    await db.deleteFrom('mail_inbound_seen').where('at', '<', before).execute();
  }

  private async advance(db: MailDb, cursor: number): Promise<void> {
    const old = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).where('id', '>', cursor).where('at', '<', Date.now() - LATE_COMMIT_MS).executeTakeFirst();
    let next = Number(old?.m ?? cursor) || cursor;
    const undone = await this.pending(db, cursor).select((eb) => eb.fn.min('id').as('m')).executeTakeFirst();
    if (undone?.m !== null && undone?.m !== undefined) next = Math.min(next, Number(undone.m) - 1);
    if (next <= cursor) return;
    await db.transaction().execute(async (t) => {
      const r = await t.updateTable('mail_state').set({ value: String(next) }).where('key', '=', 'event_cursor').where('value', '=', String(cursor)).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) await t.deleteFrom('mail_event_done').where('event_id', '<=', next).execute();
    });
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
    // Approvers who must prove a second factor to decide get mail without reply-to-decide.
    const factorIds = new Set<number>();
    for (const id of new Set(needed.slice(1))) {
      const u = policy.usersById.get(id);
      if (u && (await this.s.approvals.factorRequiredToDecide(u))) factorIds.add(id);
    }
    return { policy, instance: (await this.s.params.params()).str('instance.name'), factorIds };
  }

  private context(t: MailDb, r: ApprovalRequest, current: ApprovalRequest | undefined, now: number, inp: Inputs): ComposeContext {
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
    };
  }

  private async buildOne(db: MailDb, e: GatehouseEvent): Promise<number> {
    const r = requestOf(e);
    const now = this.s.clock.now();
    const inp = await this.inputs(r);
    return db.transaction().execute(async (t) => {
      const mark = await t.insertInto('mail_event_done').values({ event_id: e.id, at: Date.now() }).onConflict((oc) => oc.column('event_id').doNothing()).executeTakeFirst();
      if (Number(mark.numInsertedOrUpdatedRows ?? 0) !== 1) return 0; // another builder has it
      if (!r || typeof r.id !== 'number') return 0;
      const row = await t.selectFrom('approval_requests').selectAll().where('id', '=', r.id).executeTakeFirst();
      const current = row ? toRequest(row) : undefined;
      if (TERMINAL.includes(e.type)) await killTokens(t, r.id, now);
      if (e.type === 'approval.level-approved') await killTokens(t, r.id, now, { belowLevel: r.currentLevel });
      const mails = await mailsForEvent(this.context(t, r, current, now, inp), e);
      let n = 0;
      for (const m of mails) if (await enqueue(t, m, Date.now())) n++;
      return n;
    });
  }
}
