// Reads about the database itself and across its tables: reachability, migrations, report figures and the
// audit chain check.
import type { VerifyResult } from '../audit.js';
import type { ApprovalDecision, ApprovalRequest } from '../types.js';

export interface DatabaseHealth {
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Names of migrations not yet applied. */
  pendingMigrations(): Promise<string[]>;
}

export interface ReportRepository {
  /** Approval requests counted by status. */
  approvalsByStatus(): Promise<{ status: string; n: number }[]>;
  /** Requests created in [from, to) and their decisions. */
  requestsInPeriod(from: number, to: number): Promise<{ requests: ApprovalRequest[]; decisions: ApprovalDecision[] }>;
}

export interface AuditChainCheck {
  /** Reads the whole audit log in order and verifies its hash chain and signatures. */
  verify(onProgress?: (n: number) => void): Promise<VerifyResult>;
}
