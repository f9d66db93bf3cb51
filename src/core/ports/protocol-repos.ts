// The repositories the protocols, exporters, recordings, metrics and reports use: Services carries them.
import type { AuditFeed } from './audit-feed.js';
import type { AuditChainCheck, DatabaseHealth, ReportRepository } from './database.js';
import type { DeviceOptionsRepository, HttpLoginTokenRepository, HttpSessionStatsRepository } from './http-proxy.js';
import type { RecordingRepository } from './recordings.js';
import type { RdpTicketRepository } from './rdp-tickets.js';
import type { StatementRepository } from './statements.js';

export interface ProtocolRepositories {
  rdpTickets: RdpTicketRepository;
  httpLoginTokens: HttpLoginTokenRepository;
  httpSessionStats: HttpSessionStatsRepository;
  deviceOptions: DeviceOptionsRepository;
  /** The audit log as the SIEM exporters read it, with their cursors. */
  auditFeed: AuditFeed;
  auditChain: AuditChainCheck;
  recordings: RecordingRepository;
  reports: ReportRepository;
  dbHealth: DatabaseHealth;
  /** Statements seen on database sessions (PostgreSQL, MySQL). */
  statements: StatementRepository;
}
