// The API's storage port; storage/api-store.ts implements it and Services hands it out as `apiStore`.
export type { ApiStore, ApiToken, ApprovalScope, AuditFilter, AuditRow, SessionRow } from '../core/ports/api-store.js';
