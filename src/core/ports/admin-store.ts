// Policy writes. Each one runs in a transaction that also appends the audit record, bumps the policy
// version and emits `policy.changed`, so every process drops its cached snapshot.
import type { AuditEntry, Protocol, WorkflowLevel } from '../types.js';

export interface UserRow {
  username: string;
  displayName: string;
  email: string | null;
  passwordHash: string | null;
  managerId: number | null;
  isAdmin: boolean;
  disabled: boolean;
  source?: string;
}

export interface GroupRow {
  name: string;
  description?: string | null;
  requireApproval: boolean;
  requireReason: boolean;
}

export interface DeviceRow {
  name: string;
  host: string;
  ports: Partial<Record<Protocol, number>>;
  protocols: Protocol[];
  groupId: number | null;
  enabled: boolean;
  options?: Record<string, unknown>;
}

export type GroupKind = 'user' | 'device';

export interface PolicyWriter {
  insertUser(u: UserRow): Promise<number>;
  updateUser(id: number, patch: Partial<UserRow>): Promise<void>;
  addUserKey(userId: number, publicKey: string, fingerprint: string, comment: string | null): Promise<void>;
  insertGroup(kind: GroupKind, g: GroupRow): Promise<number>;
  updateGroup(kind: GroupKind, id: number, patch: Partial<GroupRow>): Promise<void>;
  setManagers(kind: GroupKind, groupId: number, userIds: number[]): Promise<void>;
  addMember(groupId: number, userId: number): Promise<boolean>;
  removeMember(groupId: number, userId: number): Promise<boolean>;
  insertDevice(d: DeviceRow): Promise<number>;
  updateDevice(id: number, patch: Partial<DeviceRow> & { hostKey?: string | null }): Promise<void>;
  /** Pins the device's SSH host key only if none is pinned (one conditional update); whether it did. */
  pinHostKey(id: number, hostKey: string): Promise<boolean>;
  insertAccount(
    deviceId: number,
    a: { name: string; secretKind: 'password' | 'key'; secretEnc: string; isDefault: boolean },
  ): Promise<number>;
  upsertAccessRule(userGroupId: number, deviceGroupId: number, protocols: Protocol[], allowPortForwarding: boolean): Promise<number>;
  deleteAccessRule(userGroupId: number, deviceGroupId: number): Promise<boolean>;
  insertWorkflow(name: string, userGroupId: number, deviceGroupId: number, levels: WorkflowLevel[]): Promise<number>;
  deleteWorkflow(name: string): Promise<boolean>;
  updateWorkflow(id: number, w: { name: string; userGroupId: number; deviceGroupId: number; levels: WorkflowLevel[] }): Promise<void>;
  setParam(name: string, value: string, at: number): Promise<void>;
}

export interface AdminStore {
  /** Runs policy writes atomically with their audit record and the policy-changed event. */
  write<T>(audit: AuditEntry | ((result: T) => AuditEntry), fn: (w: PolicyWriter) => Promise<T>): Promise<T>;
  /** The device's pinned SSH host key as the database has it now (not the cached policy). */
  hostKeyOf(deviceId: number): Promise<string | null>;
  passwordHash(username: string): Promise<{ userId: number; hash: string | null; disabled: boolean } | undefined>;
  userKeys(userId?: number): Promise<{ userId: number; publicKey: string; fingerprint: string; comment: string | null }[]>;
  accountSecret(accountId: number): Promise<{ kind: 'password' | 'key'; enc: string } | undefined>;
  listAudit(f: { limit: number; action?: string; targetType?: string; targetId?: string; beforeId?: number }): Promise<AuditRecord[]>;
}

export interface AuditRecord {
  id: number;
  at: number;
  actor: string;
  channel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
}
