// SSH login through a link: the codes as stored (only a hash of each), and the per-group login method.

export const SSH_LOGIN_METHODS = ['key-or-password', 'sso'] as const;
export type SshLoginMethod = (typeof SSH_LOGIN_METHODS)[number];

export interface NewSshSsoCode {
  codeHash: string;
  username: string;
  clientAddr: string;
  nodeId: string;
  createdAt: number;
  expiresAt: number;
}

export interface StoredSshSsoCode {
  username: string;
  clientAddr: string;
  createdAt: number;
  expiresAt: number;
  confirmedAt: number | null;
  confirmedUserId: number | null;
  confirmedFrom: string | null;
  usedAt: number | null;
}

export interface SshSsoStore {
  insert(c: NewSshSsoCode): Promise<void>;
  find(codeHash: string): Promise<StoredSshSsoCode | undefined>;
  /** Marks the code confirmed by `userId` when it is unconfirmed, unused and unexpired at `now` (one conditional update). */
  confirm(codeHash: string, userId: number, from: string, now: number): Promise<boolean>;
  /** Marks a confirmed code used when it is unused and unexpired at `now` (one conditional update); the row when it applied. */
  use(codeHash: string, now: number): Promise<StoredSshSsoCode | undefined>;
  /** Removes codes that expired before `before`. */
  prune(before: number): Promise<void>;
  groupMethods(): Promise<Map<number, SshLoginMethod>>;
  /** Sets a group's method; null removes it (the parameter applies). */
  setGroupMethod(groupId: number, method: SshLoginMethod | null, now: number): Promise<void>;
}
