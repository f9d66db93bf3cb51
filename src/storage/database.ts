// Reads about the database as a whole: reachability and migrations (readiness), report figures, and the
// audit chain check.
import { sql } from 'kysely';
import type { VerifyResult } from '../core/audit.js';
import type { AuditChainCheck, DatabaseHealth, ReportRepository } from '../core/ports/database.js';
import type { ApprovalDecision, ApprovalRequest } from '../core/types.js';
import { verifyAuditLog } from './audit-log.js';
import { pendingMigrations } from './db.js';
import { requestsInPeriod, type KyselyStore } from './store.js';

export class KyselyDatabaseHealth implements DatabaseHealth {
  constructor(private readonly store: KyselyStore) {}

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.store.db);
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.store.handle);
  }
}

export class KyselyReports implements ReportRepository {
  constructor(private readonly store: KyselyStore) {}

  async approvalsByStatus(): Promise<{ status: string; n: number }[]> {
    const rows = await this.store.db
      .selectFrom('approval_requests')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
  }

  requestsInPeriod(from: number, to: number): Promise<{ requests: ApprovalRequest[]; decisions: ApprovalDecision[] }> {
    return requestsInPeriod(this.store.db, from, to);
  }
}

export class KyselyAuditChainCheck implements AuditChainCheck {
  constructor(private readonly store: KyselyStore) {}

  /** The key is read at each call: services set it on the store after opening it. */
  verify(onProgress?: (n: number) => void): Promise<VerifyResult> {
    return verifyAuditLog(this.store.db, this.store.auditKey, onProgress);
  }
}
