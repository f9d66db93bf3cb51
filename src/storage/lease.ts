// Outbox rows (mail, webhooks) are claimed by one sender at a time: queued and due, or sending with a
// lease that ran out (its node died mid-send).
import { sql, type RawBuilder, type SqlBool } from 'kysely';

export function claimable(now: number): RawBuilder<SqlBool> {
  return sql<SqlBool>`((status = 'queued' AND next_attempt_at <= ${now}) OR (status = 'sending' AND lease_until < ${now}))`;
}
