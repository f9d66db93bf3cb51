// Proxied sessions' rows, and the audit and event appends the session registry makes (SessionStorePort).
import type { Kysely } from 'kysely';
import type { SessionRecord, SessionStorePort } from '../core/sessions.js';
import type { AuditEntry } from '../core/types.js';
import { appendAudit } from './audit-log.js';
import { appendEvent } from './event-log.js';
import type { Database } from './schema.js';

/** Session rows and generic audit appends. */
export class KyselySessionStore implements SessionStorePort {
  private readonly db: Kysely<Database>;
  constructor(private readonly store: { readonly db: Kysely<Database>; readonly auditKey: Buffer }) {
    this.db = store.db;
  }

  async insertSession(r: SessionRecord, at: number): Promise<number> {
    const row = await this.db
      .insertInto('sessions')
      .values({
        user_id: r.userId,
        device_id: r.deviceId,
        account_id: r.accountId,
        protocol: r.protocol,
        approval_id: r.approvalId,
        client_addr: r.clientAddr,
        node_id: r.nodeId,
        // The process holding the connection: a node with several workers ends a dead worker's sessions by it.
        worker_pid: process.pid,
        started_at: at,
        ended_at: null,
        end_reason: null,
        bytes_in: 0,
        bytes_out: 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async endSession(id: number, at: number, reason: string, bytesIn: number, bytesOut: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ ended_at: at, end_reason: reason.slice(0, 200), bytes_in: bytesIn, bytes_out: bytesOut })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .execute();
  }

  async updateSessionBytes(id: number, bytesIn: number, bytesOut: number): Promise<void> {
    await this.db.updateTable('sessions').set({ bytes_in: bytesIn, bytes_out: bytesOut }).where('id', '=', id).execute();
  }

  async appendSessionEvent(type: string, payload: Record<string, unknown>, at: number): Promise<void> {
    await appendEvent(this.db, type, payload, at);
  }

  async appendAudit(e: AuditEntry, at: number): Promise<void> {
    await appendAudit(this.db, this.store.auditKey, e, at);
  }
}
