// What the directory needs from storage: its settings and sync lease, links from local users and groups to
// DNs, and the second factor (TOTP secrets, recovery codes, per-group and approver flags).

export type LinkKind = 'user' | 'group';
export interface Link {
  kind: LinkKind;
  name: string;
  dn: string;
  disabledBySync: boolean;
}

export interface StoredConfig {
  settings: unknown;
  bindPasswordEnc: string | null;
  updatedAt: number;
  lastSyncAt: number | null;
  lastSummary: unknown;
}

export interface TotpRow {
  user_id: number;
  secret_enc: string;
  enabled: number;
  last_step: number | null;
  created_at: number;
  enabled_at: number | null;
}

export interface DirectoryStore {
  config(): Promise<StoredConfig | undefined>;
  saveConfig(settings: unknown, bindPasswordEnc: string | null | undefined, now: number): Promise<void>;
  recordSync(summary: unknown, now: number): Promise<void>;
  /** One node at a time: takes the sync lease when it is free or lapsed. */
  takeLease(owner: string, now: number, ms: number): Promise<boolean>;
  releaseLease(owner: string): Promise<void>;
  links(kind?: LinkKind): Promise<Link[]>;
  link(kind: LinkKind, name: string): Promise<Link | undefined>;
  /** Records links in one transaction; only those that differ from `known` are written. */
  upsertLinks(links: Link[], source: string, now: number, known?: Link[]): Promise<void>;

  totp(userId: number): Promise<TotpRow | undefined>;
  putTotp(userId: number, secretEnc: string, now: number): Promise<void>;
  enableTotp(userId: number, step: number, recoveryHashes: string[], now: number): Promise<void>;
  deleteTotp(userId: number): Promise<boolean>;
  /** The replay guard: records `step` as used only if it is later than the last one. */
  useStep(userId: number, step: number): Promise<boolean>;
  /** Spends a recovery code: true once per code. */
  useRecovery(userId: number, codeHash: string, now: number): Promise<boolean>;
  recoveryLeft(userId: number): Promise<number>;
  /** Everyone who may approve must pass the second factor. */
  approversNeedSecondFactor(): Promise<boolean>;
  setApproversNeedSecondFactor(on: boolean): Promise<void>;
  secondFactorGroupIds(): Promise<Set<number>>;
  setSecondFactorGroup(groupId: number, on: boolean, now: number): Promise<void>;
}
