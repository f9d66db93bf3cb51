// What OpenID Connect login needs from storage; storage/sso-store.ts implements it.

export interface SsoStoredConfig {
  settings: unknown;
  clientSecretEnc: string | null;
  enabled: boolean;
  updatedAt: number;
}

/** One login transaction: what the callback must find again, once. */
export interface SsoLoginRow {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** SHA-256 of the cookie set on the browser that started the login. */
  browserHash: string;
  clientAddr: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface SsoLink {
  userId: number;
  subject: string;
  /** Groups the groups claim put this user in. */
  groups: string[];
}

export interface SsoStore {
  config(): Promise<SsoStoredConfig | undefined>;
  /** `clientSecretEnc` undefined keeps the stored secret. */
  saveConfig(settings: unknown, clientSecretEnc: string | undefined, now: number): Promise<void>;
  setEnabled(enabled: boolean, now: number): Promise<boolean>;

  /** Stores a transaction; false when `max.total` live ones exist, or `max.perAddr` from this address (a flood). */
  putLogin(row: SsoLoginRow, now: number, max: { total: number; perAddr: number }): Promise<boolean>;
  /** Takes a live transaction out: one caller gets it, on any node; later or parallel callers get undefined. */
  takeLogin(state: string, now: number): Promise<SsoLoginRow | undefined>;

  link(userId: number): Promise<SsoLink | undefined>;
  linkBySubject(subject: string): Promise<SsoLink | undefined>;
  saveLink(link: SsoLink, now: number): Promise<void>;

  /** The leaver: deletes every console session and revokes every API token of the user. */
  signOutUser(userId: number, now: number): Promise<{ sessions: number; tokens: number }>;
}
