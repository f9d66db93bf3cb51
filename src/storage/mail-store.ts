// Approval mail's tables (core/ports/mail.ts): the outbox and its leases, the builder's cursor and per-event
// markers, link tokens, reply secrets, inbound Message-IDs and the console's mail settings.
import { sql, type Kysely } from 'kysely';
import type { ClaimedMail, LinkTokenRow, MailStore, MailTx, NewLinkToken, NewMail, OutboxStats } from '../core/ports/mail.js';
import type { GatehouseEvent } from '../core/types.js';
import type { Database } from './schema.js';
import { toRequest } from './store.js';

/** The operations of one event's build, on the database or inside its transaction. */
class KyselyMailTx implements MailTx {
  constructor(protected readonly db: Kysely<Database>) {}

  async getRequest(id: number) {
    const row = await this.db.selectFrom('approval_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRequest(row) : undefined;
  }

  /** ON CONFLICT DO NOTHING on either unique key: exactly once by construction, whoever gets there first. */
  async enqueue(m: NewMail, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('mail_outbox')
      .values({
        mail_key: m.key,
        request_id: m.requestId,
        kind: m.kind,
        occurrence: m.occurrence,
        to_addr: m.to,
        subject: m.subject,
        text_body: m.text,
        html_body: m.html,
        headers: JSON.stringify(m.headers),
        message_id: m.messageId,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        claimed_by: null,
        last_error: null,
        created_at: now,
        sent_at: null,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async insertLinkToken(t: NewLinkToken, now: number): Promise<void> {
    await this.db
      .insertInto('mail_link_tokens')
      .values({
        token_hash: t.tokenHash,
        request_id: t.requestId,
        approver_id: t.approverId,
        action: t.action,
        level: t.level,
        created_at: now,
        used_at: null,
        dead_at: null,
      })
      .execute();
  }

  async replySecret(requestId: number, candidate: string, now: number): Promise<string> {
    const got = await this.db.selectFrom('mail_reply_secrets').select('secret').where('request_id', '=', requestId).executeTakeFirst();
    if (got) return got.secret;
    await this.db
      .insertInto('mail_reply_secrets')
      .values({ request_id: requestId, secret: candidate, created_at: now })
      .onConflict((oc) => oc.column('request_id').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('mail_reply_secrets')
      .select('secret')
      .where('request_id', '=', requestId)
      .executeTakeFirstOrThrow();
    return row.secret;
  }

  async killLinks(requestId: number, now: number, opts: { belowLevel?: number; approverId?: number } = {}): Promise<void> {
    let q = this.db.updateTable('mail_link_tokens').set({ dead_at: now }).where('request_id', '=', requestId).where('dead_at', 'is', null);
    if (opts.belowLevel !== undefined) q = q.where('level', '<', opts.belowLevel);
    if (opts.approverId !== undefined) q = q.where('approver_id', '=', opts.approverId);
    await q.execute();
  }
}

/** mail_state key of the IMAP poller's lease: '<owner> <until ms>', or '' when free. */
const IMAP_LEASE = 'imap_lease';

export class KyselyMailStore extends KyselyMailTx implements MailStore {
  // ---- outbox

  async outboxStats(now: number): Promise<OutboxStats> {
    const rows = await this.db
      .selectFrom('mail_outbox')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
      .groupBy('status')
      .execute();
    const out: OutboxStats = { queued: 0, sending: 0, failed: 0, sent: 0, oldestUnsentSeconds: 0, lastError: null };
    let oldest = Infinity;
    for (const r of rows) {
      out[r.status as 'queued'] = Number(r.n);
      if (r.status === 'queued' || r.status === 'sending') oldest = Math.min(oldest, Number(r.oldest));
    }
    if (oldest !== Infinity) out.oldestUnsentSeconds = Math.max(0, (now - oldest) / 1000);
    const last = await this.db
      .selectFrom('mail_outbox')
      .select('last_error')
      .where('last_error', 'is not', null)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    out.lastError = last?.last_error ?? null;
    return out;
  }

  async dueMail(now: number, limit: number): Promise<number[]> {
    const due = await this.db
      .selectFrom('mail_outbox')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
          eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)]),
        ]),
      )
      .orderBy('id')
      .limit(limit)
      .execute();
    return due.map((r) => r.id);
  }

  async claimMail(id: number, owner: string, now: number, leaseMs: number): Promise<ClaimedMail | undefined> {
    const r = await this.db
      .updateTable('mail_outbox')
      .set((eb) => ({ status: 'sending', lease_until: now + leaseMs, claimed_by: owner, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
          eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)]),
        ]),
      )
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    const m = await this.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).where('claimed_by', '=', owner).executeTakeFirst();
    if (!m) return undefined;
    return {
      id: m.id,
      kind: m.kind,
      to: m.to_addr,
      subject: m.subject,
      text: m.text_body,
      html: m.html_body,
      headers: m.headers,
      messageId: m.message_id,
      attempts: m.attempts,
      createdAt: m.created_at,
    };
  }

  async renewMail(id: number, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mail_outbox')
      .set({ lease_until: now + leaseMs })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', owner)
      .where('lease_until', '>=', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async markSent(id: number, owner: string, now: number): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ status: 'sent', sent_at: now, lease_until: null, text_body: null, html_body: null, last_error: null })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .where('status', '=', 'sending')
      .execute();
  }

  async markFailed(id: number, owner: string, o: { giveUp: boolean; nextAttemptAt: number; error: string }): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ status: o.giveUp ? 'failed' : 'queued', next_attempt_at: o.nextAttemptAt, lease_until: null, last_error: o.error })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .where('status', '=', 'sending')
      .execute();
  }

  // ---- builder

  async eventCursor(create: boolean): Promise<number | undefined> {
    // An insert is a write, and takes SQLite's write lock even when it inserts nothing: the caller asks
    // for it only until the row is known to be there.
    if (create)
      await this.db
        .insertInto('mail_state')
        .values({ key: 'event_cursor', value: '0' })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    const r = await this.db.selectFrom('mail_state').select('value').where('key', '=', 'event_cursor').executeTakeFirst();
    return r ? Number(r.value) : undefined;
  }

  private pending(cursor: number, types: readonly string[]) {
    return this.db
      .selectFrom('events')
      .where('id', '>', cursor)
      .where('type', 'in', [...types])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('mail_event_done')
              .select(sql`1`.as('one'))
              .whereRef('mail_event_done.event_id', '=', 'events.id'),
          ),
        ),
      );
  }

  async pendingEvents(cursor: number, types: readonly string[], limit: number): Promise<GatehouseEvent[]> {
    const rows = await this.pending(cursor, types).selectAll().orderBy('id').limit(limit).execute();
    return rows.map((row) => ({ id: row.id, at: row.at, type: row.type, payload: JSON.parse(row.payload) }));
  }

  async advanceCursor(cursor: number, types: readonly string[], settledBefore: number): Promise<void> {
    const old = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('id').as('m'))
      .where('id', '>', cursor)
      .where('at', '<', settledBefore)
      .executeTakeFirst();
    let next = Number(old?.m ?? cursor) || cursor;
    const undone = await this.pending(cursor, types)
      .select((eb) => eb.fn.min('id').as('m'))
      .executeTakeFirst();
    if (undone?.m !== null && undone?.m !== undefined) next = Math.min(next, Number(undone.m) - 1);
    if (next <= cursor) return;
    await this.db.transaction().execute(async (t) => {
      const r = await t
        .updateTable('mail_state')
        .set({ value: String(next) })
        .where('key', '=', 'event_cursor')
        .where('value', '=', String(cursor))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) await t.deleteFrom('mail_event_done').where('event_id', '<=', next).execute();
    });
  }

  buildEvent(eventId: number, at: number, fn: (tx: MailTx) => Promise<number>): Promise<number> {
    return this.db.transaction().execute(async (t) => {
      const mark = await t
        .insertInto('mail_event_done')
        .values({ event_id: eventId, at })
        .onConflict((oc) => oc.column('event_id').doNothing())
        .executeTakeFirst();
      if (Number(mark.numInsertedOrUpdatedRows ?? 0) !== 1) return 0; // another builder has it
      return fn(new KyselyMailTx(t));
    });
  }

  async housekeep(before: number, linksBefore: number): Promise<void> {
    await this.db.deleteFrom('mail_outbox').where('status', 'in', ['sent', 'failed']).where('created_at', '<', before).execute();
    await this.db.deleteFrom('mail_link_tokens').where('created_at', '<', linksBefore).execute();
    await this.db.deleteFrom('mail_inbound_seen').where('at', '<', before).execute();
  }

  // ---- inbound replies

  async claimInbound(messageId: string, now: number, staleMs: number): Promise<boolean> {
    const r = await this.db
      .insertInto('mail_inbound_seen')
      .values({ message_id: messageId, at: now, outcome: 'processing' })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    const retake = await this.db
      .updateTable('mail_inbound_seen')
      .set({ at: now })
      .where('message_id', '=', messageId)
      .where('outcome', '=', 'processing')
      .where('at', '<', now - staleMs)
      .executeTakeFirst();
    return Number(retake.numUpdatedRows) === 1;
  }

  async takeImapLease(owner: string, now: number, ms: number): Promise<boolean> {
    await this.db
      .insertInto('mail_state')
      .values({ key: IMAP_LEASE, value: '' })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const cur = (await this.db.selectFrom('mail_state').select('value').where('key', '=', IMAP_LEASE).executeTakeFirst())?.value ?? '';
    const [holder, until] = cur.split(' ');
    if (holder && holder !== owner && Number(until) > now) return false;
    // Compare-and-set on the value read: of two takers of a lapsed lease, one wins.
    const r = await this.db
      .updateTable('mail_state')
      .set({ value: `${owner} ${now + ms}` })
      .where('key', '=', IMAP_LEASE)
      .where('value', '=', cur)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async releaseImapLease(owner: string): Promise<void> {
    await this.db.updateTable('mail_state').set({ value: '' }).where('key', '=', IMAP_LEASE).where('value', 'like', `${owner} %`).execute();
  }

  async setInboundOutcome(messageId: string, outcome: string): Promise<void> {
    await this.db.updateTable('mail_inbound_seen').set({ outcome }).where('message_id', '=', messageId).execute();
  }

  async releaseInbound(messageId: string): Promise<void> {
    await this.db.deleteFrom('mail_inbound_seen').where('message_id', '=', messageId).execute();
  }

  async replySecretOf(requestId: number): Promise<string | undefined> {
    return (await this.db.selectFrom('mail_reply_secrets').select('secret').where('request_id', '=', requestId).executeTakeFirst())?.secret;
  }

  // ---- email links

  async linkToken(tokenHash: string): Promise<LinkTokenRow | undefined> {
    return this.db.selectFrom('mail_link_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async killLink(tokenHash: string, now: number): Promise<void> {
    await this.db.updateTable('mail_link_tokens').set({ dead_at: now }).where('token_hash', '=', tokenHash).execute();
  }

  async killApproverLinks(requestId: number, approverId: number, level: number, now: number): Promise<void> {
    await this.db
      .updateTable('mail_link_tokens')
      .set({ dead_at: now })
      .where('request_id', '=', requestId)
      .where('approver_id', '=', approverId)
      .where('level', '=', level)
      .where('dead_at', 'is', null)
      .where('used_at', 'is', null)
      .execute();
  }

  async useLink(tokenHash: string, now: number): Promise<boolean> {
    const claimed = await this.db
      .updateTable('mail_link_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('dead_at', 'is', null)
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1;
  }

  async unuseLink(tokenHash: string): Promise<void> {
    await this.db.updateTable('mail_link_tokens').set({ used_at: null }).where('token_hash', '=', tokenHash).execute();
  }

  // ---- console settings

  async settings(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('mail_settings').selectAll().execute();
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  async saveSettings(entries: [string, string | null][], now: number): Promise<void> {
    await this.db.transaction().execute(async (t) => {
      for (const [key, value] of entries) {
        await t.deleteFrom('mail_settings').where('key', '=', key).execute();
        if (value !== null) await t.insertInto('mail_settings').values({ key, value, updated_at: now }).execute();
      }
    });
  }
}
