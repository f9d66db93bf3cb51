// Sign-in tables: OpenID Connect (migration 015), SSH login through a console link (016), passkeys (017).
import type { Generated } from 'kysely';

export interface AuthTables {
  sso_config: SsoConfigTable;
  sso_logins: SsoLoginsTable;
  sso_links: SsoLinksTable;
  ssh_sso_codes: SshSsoCodesTable;
  ssh_sso_group_methods: SshSsoGroupMethodsTable;
  passkeys: PasskeysTable;
  passkey_challenges: PasskeyChallengesTable;
}

// OpenID Connect login (migration 015): settings, login transactions, and subject links.
export interface SsoConfigTable {
  id: number;
  settings: string;
  client_secret_enc: string | null;
  enabled: number;
  updated_at: number;
}
export interface SsoLoginsTable {
  state: string;
  nonce: string;
  verifier: string;
  return_to: string;
  browser_hash: string;
  client_addr: string | null;
  created_at: number;
  expires_at: number;
}
export interface SsoLinksTable {
  user_id: number;
  subject: string;
  groups: string;
  last_login_at: number;
}

/** A WebAuthn credential; public_key is base64url COSE, counter the last signature count seen. */
export interface PasskeysTable {
  id: Generated<number>;
  user_id: number;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}
/** A WebAuthn challenge, single use, bound to a user, a purpose and a scope. */
export interface PasskeyChallengesTable {
  challenge: string;
  user_id: number;
  purpose: string;
  scope: string;
  expires_at: number;
  used_at: number | null;
}

// SSH login through a console link (migration 016).
export interface SshSsoCodesTable {
  id: Generated<number>;
  code_hash: string;
  username: string;
  client_addr: string;
  node_id: string;
  created_at: number;
  expires_at: number;
  confirmed_at: number | null;
  confirmed_user_id: number | null;
  confirmed_from: string | null;
  used_at: number | null;
}
export interface SshSsoGroupMethodsTable {
  group_id: number;
  method: string;
  updated_at: number;
}
