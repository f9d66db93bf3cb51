// The API's JSON as the console sees it, derived from the server's TypeBox schemas. Type imports
// only: the bundle never pulls server code, and a schema change breaks the console's typecheck.
import type { Static } from '@sinclair/typebox';
import type * as S from '../../src/api/schemas';

export type User = Static<typeof S.User>;
export type UserGroup = Static<typeof S.UserGroup>;
export type DeviceGroup = Static<typeof S.DeviceGroup>;
export type Device = Static<typeof S.Device>;
export type AccessRule = Static<typeof S.AccessRule>;
export type Workflow = Static<typeof S.Workflow>;
export type Param = Static<typeof S.Param>;
export type Approval = Static<typeof S.Approval>;
export type Session = Static<typeof S.Session>;
export type Statement = Static<typeof S.Statement>;
export type AuditRecord = Static<typeof S.AuditRecord>;
export type Token = Static<typeof S.Token>;
export type List<T> = { items: T[]; nextBeforeId: number | null };

// The answers below have no schema in the schemas barrel yet (they live inside their route file, or
// the route answers Type.Any); they follow those routes: session.ts, connect.ts, mail-settings.ts,
// recordings.ts (reports).

/** GET /session. */
export interface Me {
  user: User;
  channel: string;
  csrfToken: string | null;
  roles: { admin: boolean; approver: boolean };
  sshPort: number;
  sshHost: string;
  instance: string;
}

/** GET /connect: one way to reach a device. */
export interface Way {
  protocol: string;
  outcome: string;
  why: string;
  requireReason: boolean;
  approverManager: string[];
  noEligibleApprover: boolean;
  command: string | null;
  link: string | null;
}
export interface Target {
  device: string;
  group: string | null;
  accounts: string[];
  ways: Way[];
}

/** GET /mail-settings. */
export interface MailView {
  settings: { host?: string; port?: number; security?: 'tls' | 'starttls' | 'none'; user?: string; from?: string; hasPassword?: boolean };
  environmentOverrides: boolean;
  outbox: { queued: number; sending: number; sent: number; failed: number; oldestUnsentSeconds: number; lastError: string | null };
}

/** GET /reports/approvals. */
export interface Report {
  from: string;
  to: string;
  requests: number;
  expired: number;
  autoApproved: number;
  medianMinutesToDecision: number | null;
  byStatus: Record<string, number>;
  perApprover: { approver: string; approved: number; rejected: number; medianMinutesToDecision: number | null }[];
  topDevices: { device: string; requests: number }[];
}
