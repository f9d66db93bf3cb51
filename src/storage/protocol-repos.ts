// Builds the repositories of core/ports/protocol-repos.ts on one store.
import type { ProtocolRepositories } from '../core/ports/protocol-repos.js';
import { KyselyAuditFeed } from './audit-feed.js';
import { KyselyAuditChainCheck, KyselyDatabaseHealth, KyselyReports } from './database.js';
import { KyselyDeviceOptions, KyselyHttpLoginTokens, KyselyHttpSessionStats } from './http-proxy.js';
import { withProtocolTables } from './protocol-tables.js';
import { KyselyRecordings } from './recordings.js';
import { KyselyRdpTicketRepository } from './rdp-tickets.js';
import { KyselyStatements } from './statements-store.js';
import type { KyselyStore } from './store.js';

export function protocolRepositories(store: KyselyStore): ProtocolRepositories {
  const db = withProtocolTables(store.db);
  return {
    rdpTickets: new KyselyRdpTicketRepository(db),
    httpLoginTokens: new KyselyHttpLoginTokens(db),
    httpSessionStats: new KyselyHttpSessionStats(db),
    deviceOptions: new KyselyDeviceOptions(db),
    auditFeed: new KyselyAuditFeed(store.db),
    auditChain: new KyselyAuditChainCheck(store),
    recordings: new KyselyRecordings(store.db),
    reports: new KyselyReports(store),
    dbHealth: new KyselyDatabaseHealth(store),
    statements: new KyselyStatements(store.db),
  };
}
