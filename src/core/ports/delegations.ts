// Delegations of approval rights, as storage keeps them.
import type { AuditEntry, Delegation } from '../types.js';

export interface DelegationStore {
  /** Delegations to `userId` in force at `at`. */
  delegationsTo(userId: number, at: number): Promise<Delegation[]>;
  /** Delegations from any of `userIds` in force at `at` (whom to tell besides the approvers). */
  delegationsFrom(userIds: readonly number[], at: number): Promise<Delegation[]>;
  /** Every delegation, or those from or to `userId`, newest first. */
  listDelegations(userId?: number): Promise<Delegation[]>;
  /** Inserts one with its audit record (its target id set to the new row) and a `delegation.created` event. */
  insertDelegation(d: Omit<Delegation, 'id' | 'revokedAt'>, audit: AuditEntry, at: number): Promise<Delegation>;
}
