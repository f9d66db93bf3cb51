// The audit log in seq order for exporters, with cursors in `meta` that move by conditional update.
import type { Kysely } from 'kysely';
import type { AuditFeed, AuditFeedRecord } from '../core/ports/audit-feed.js';
import type { Database } from './schema.js';

export class KyselyAuditFeed implements AuditFeed {
  constructor(private readonly db: Kysely<Database>) {}

  async cursor(key: string): Promise<number> {
    const r = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    if (r) return Number(r.value);
    await this.db
      .insertInto('meta')
      .values({ key, value: '0' })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return 0;
  }

  async after(seq: number, limit: number): Promise<AuditFeedRecord[]> {
    const rows = await this.db.selectFrom('audit_log').selectAll().where('seq', '>', seq).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      channel: r.channel,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      details: r.details,
      hash: r.hash,
    }));
  }

  async move(key: string, from: number, to: number): Promise<boolean> {
    const r = await this.db
      .updateTable('meta')
      .set({ value: String(to) })
      .where('key', '=', key)
      .where('value', '=', String(from))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async countAfter(seq: number): Promise<number> {
    const r = await this.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('seq', '>', seq)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
