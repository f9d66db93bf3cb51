// Chat approvals' tables (core/ports/chat.ts): settings, the per-request outbox with its leases and
// versions, the messages posted, and the builder's cursor over the audit log (a `meta` row moved by
// conditional update in the same transaction as the jobs it queues).
import type { Kysely, Selectable } from 'kysely';
import type { AuditFeedRecord } from '../core/ports/audit-feed.js';
import type { ChatJob, ChatMessage, ChatProvider, ChatQueueStats, ChatSettings, ChatStore } from '../core/ports/chat.js';
import type { ChatMessagesTable } from './chat-tables.js';
import type { Database } from './schema.js';
import { KyselyAuditFeed } from './audit-feed.js';

const CURSOR = 'chat.cursor';

const toMessage = (r: Selectable<ChatMessagesTable>): ChatMessage => ({
  id: r.id,
  provider: r.provider as ChatProvider,
  requestId: r.request_id,
  target: r.target,
  channelId: r.channel_id,
  messageId: r.message_id,
  key: r.msg_key,
  rendered: r.rendered,
});

export class KyselyChatStore implements ChatStore {
  private readonly feed: KyselyAuditFeed;
  constructor(private readonly db: Kysely<Database>) {
    this.feed = new KyselyAuditFeed(db);
  }

  async settings(): Promise<ChatSettings[]> {
    const rows = await this.db.selectFrom('chat_settings').selectAll().orderBy('provider').execute();
    return rows.map((r) => ({
      provider: r.provider as ChatProvider,
      apiUrl: r.api_url,
      channel: r.channel,
      botTokenEnc: r.bot_token_enc,
      secretEnc: r.secret_enc,
      updatedAt: Number(r.updated_at),
      updatedBy: r.updated_by,
    }));
  }

  async saveSettings(s: ChatSettings): Promise<void> {
    const v = {
      api_url: s.apiUrl,
      channel: s.channel,
      bot_token_enc: s.botTokenEnc,
      secret_enc: s.secretEnc,
      updated_at: s.updatedAt,
      updated_by: s.updatedBy,
    };
    await this.db
      .insertInto('chat_settings')
      .values({ provider: s.provider, ...v })
      .onConflict((oc) => oc.column('provider').doUpdateSet(v))
      .execute();
  }

  async removeSettings(provider: ChatProvider): Promise<boolean> {
    const r = await this.db.deleteFrom('chat_settings').where('provider', '=', provider).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async cursor(): Promise<number> {
    const r = await this.db.selectFrom('meta').select('value').where('key', '=', CURSOR).executeTakeFirst();
    if (r) return Number(r.value);
    const end = await this.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    await this.db
      .insertInto('meta')
      .values({ key: CURSOR, value: String(Number(end?.m ?? 0) || 0) })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const again = await this.db.selectFrom('meta').select('value').where('key', '=', CURSOR).executeTakeFirstOrThrow();
    return Number(again.value);
  }

  auditAfter(seq: number, limit: number): Promise<AuditFeedRecord[]> {
    return this.feed.after(seq, limit);
  }

  queue(from: number, to: number, jobs: { provider: ChatProvider; requestId: number }[], now: number): Promise<boolean> {
    return this.db.transaction().execute(async (t) => {
      // The conditional move first: on PostgreSQL it locks the cursor row, so a second builder waits, then
      // finds the cursor moved and queues nothing.
      const moved = await t
        .updateTable('meta')
        .set({ value: String(to) })
        .where('key', '=', CURSOR)
        .where('value', '=', String(from))
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return false;
      for (const j of jobs) {
        const ins = await t
          .insertInto('chat_jobs')
          .values({
            provider: j.provider,
            request_id: j.requestId,
            version: 1,
            status: 'queued',
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
          })
          .onConflict((oc) => oc.columns(['provider', 'request_id']).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (ins) continue;
        // A job being sent keeps its lease (one sender per request); its finish sees the new version.
        await t
          .updateTable('chat_jobs')
          .set((eb) => ({ version: eb('version', '+', 1), attempts: 0, next_attempt_at: now, last_error: null }))
          .where('provider', '=', j.provider)
          .where('request_id', '=', j.requestId)
          .execute();
        await t
          .updateTable('chat_jobs')
          .set({ status: 'queued', done_at: null })
          .where('provider', '=', j.provider)
          .where('request_id', '=', j.requestId)
          .where('status', 'in', ['done', 'failed'])
          .execute();
      }
      return true;
    });
  }

  async due(now: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('chat_jobs')
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
    return rows.map((r) => r.id);
  }

  async claim(id: number, owner: string, now: number, leaseMs: number): Promise<ChatJob | undefined> {
    const r = await this.db
      .updateTable('chat_jobs')
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
    const row = await this.db.selectFrom('chat_jobs').selectAll().where('id', '=', id).where('claimed_by', '=', owner).executeTakeFirst();
    return row
      ? { id: row.id, provider: row.provider as ChatProvider, requestId: row.request_id, version: row.version, attempts: row.attempts }
      : undefined;
  }

  async finish(
    id: number,
    owner: string,
    version: number,
    o: { ok: boolean; error: string | null; retryAt: number | null; now: number },
  ): Promise<boolean> {
    const mine = (q: ReturnType<typeof this.db.updateTable<'chat_jobs'>>) =>
      q.where('id', '=', id).where('claimed_by', '=', owner).where('status', '=', 'sending');
    if (o.ok) {
      const done = await mine(this.db.updateTable('chat_jobs'))
        .set({ status: 'done', lease_until: null, last_error: null, done_at: o.now, next_attempt_at: null })
        .where('version', '=', version)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 1) return true;
      // Another event came in while this one was being sent: go again now.
      const again = await mine(this.db.updateTable('chat_jobs'))
        .set({ status: 'queued', lease_until: null, next_attempt_at: o.now, attempts: 0 })
        .executeTakeFirst();
      return Number(again.numUpdatedRows) === 1;
    }
    const r = await mine(this.db.updateTable('chat_jobs'))
      .set({
        status: o.retryAt === null ? 'failed' : 'queued',
        done_at: o.retryAt === null ? o.now : null,
        lease_until: null,
        next_attempt_at: o.retryAt,
        last_error: o.error === null ? null : o.error.slice(0, 400),
      })
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async stats(provider: ChatProvider): Promise<ChatQueueStats> {
    const rows = await this.db
      .selectFrom('chat_jobs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('provider', '=', provider)
      .groupBy('status')
      .execute();
    const n = (st: string) => Number(rows.find((r) => r.status === st)?.n ?? 0);
    const last = await this.db
      .selectFrom('chat_jobs')
      .select('last_error')
      .where('provider', '=', provider)
      .where('last_error', 'is not', null)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return { queued: n('queued') + n('sending'), failed: n('failed'), lastError: last?.last_error ?? null };
  }

  async prune(before: number): Promise<void> {
    await this.db.deleteFrom('chat_jobs').where('status', 'in', ['done', 'failed']).where('done_at', '<', before).execute();
  }

  async messages(provider: ChatProvider, requestId: number): Promise<ChatMessage[]> {
    const rows = await this.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('provider', '=', provider)
      .where('request_id', '=', requestId)
      .orderBy('id')
      .execute();
    return rows.map(toMessage);
  }

  async messageByKey(key: string): Promise<ChatMessage | undefined> {
    const r = await this.db.selectFrom('chat_messages').selectAll().where('msg_key', '=', key).executeTakeFirst();
    return r ? toMessage(r) : undefined;
  }

  async addMessage(m: Omit<ChatMessage, 'id'>, now: number): Promise<void> {
    await this.db
      .insertInto('chat_messages')
      .values({
        provider: m.provider,
        request_id: m.requestId,
        target: m.target,
        channel_id: m.channelId,
        message_id: m.messageId,
        msg_key: m.key,
        rendered: m.rendered,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async markRendered(id: number, rendered: string, now: number): Promise<void> {
    await this.db.updateTable('chat_messages').set({ rendered, updated_at: now }).where('id', '=', id).execute();
  }
}
