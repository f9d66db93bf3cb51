// OpenID Connect login as a service: its settings (client secret sealed in the vault), a dry run, the
// login transaction (stored server-side, single use, 10 minutes) and its end: verified claims -> user.
import { createHash, randomBytes } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';
import type { Actor } from '../core/admin/service.js';
import type { AdminStore } from '../core/ports/admin-store.js';
import type { Clock } from '../core/ports/clock.js';
import type { Vault } from '../core/ports/crypto.js';
import type { PolicyCache } from '../core/policy/cache.js';
import type { AuditEntry, User } from '../core/types.js';
import { parseSsoSettings, type SsoSettings } from './config.js';
import { OidcClient, type Provider } from './oidc.js';
import type { SsoStore } from './store.js';
import { userFor, usernameOf } from './users.js';

export interface SsoDeps {
  store: SsoStore;
  vault: Vault;
  admin: AdminStore;
  policy: PolicyCache;
  clock: Clock;
  audit(e: AuditEntry): Promise<void>;
  /** GATEHOUSE_PUBLIC_URL (read late: a port chosen at start-up is filled in after listen). */
  publicUrl(): string;
  /** login.password.break.glass.user: that local account never signs in through SSO. */
  breakGlassUser(): Promise<string>;
  /** Ends the user's live device sessions on every node. */
  endSessions(userId: number, reason: string): Promise<void>;
}

export interface SsoView {
  settings: SsoSettings;
  enabled: boolean;
  clientSecretSet: boolean;
  redirectUri: string;
  updatedAt: number;
}

export type SsoPatch = Partial<SsoSettings>;

export const LOGIN_TTL_MS = 10 * 60_000;
/** Unfinished logins kept at most (in all, and per client address): a flood of GET /sso/login stays bounded. */
export const MAX_PENDING_LOGINS = { total: 10_000, perAddr: 50 };

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
export const CALLBACK_PATH = '/api/v1/sso/callback';

export class SsoService {
  readonly store: SsoStore;
  private readonly oidc: OidcClient;
  constructor(private readonly d: SsoDeps) {
    this.store = d.store;
    this.oidc = new OidcClient(() => d.clock.now());
  }

  get redirectUri(): string {
    return new URL(CALLBACK_PATH, this.d.publicUrl()).toString();
  }

  async view(): Promise<SsoView | null> {
    const c = await this.store.config();
    if (!c) return null;
    return {
      settings: parseSsoSettings(c.settings),
      enabled: c.enabled,
      clientSecretSet: !!c.clientSecretEnc,
      redirectUri: this.redirectUri,
      updatedAt: c.updatedAt,
    };
  }

  /** What the login page shows: the button's name when SSO is on, else null. */
  async button(): Promise<string | null> {
    const c = await this.store.config();
    return c?.enabled && c.clientSecretEnc ? parseSsoSettings(c.settings).name : null;
  }

  /** Sets (or changes) the settings; fields not given keep their value. */
  async configure(actor: Actor, patch: SsoPatch, clientSecret?: string): Promise<SsoView> {
    const current = (await this.store.config())?.settings as Partial<SsoSettings> | undefined;
    const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const settings = parseSsoSettings({ ...current, ...given });
    if (clientSecret !== undefined && (clientSecret.length === 0 || clientSecret.length > 4096))
      throw new GatehouseError('invalid', 'the client secret must be 1-4096 characters', 'clientSecret');
    if (clientSecret === undefined && !(await this.store.config())?.clientSecretEnc)
      throw new GatehouseError('invalid', 'a client secret is needed (--client-secret-stdin)', 'clientSecret');
    await this.store.saveConfig(settings, clientSecret !== undefined ? this.d.vault.seal(clientSecret) : undefined, this.d.clock.now());
    this.oidc.forget();
    await this.d.audit({
      actor: actor.username,
      actorId: actor.id,
      channel: actor.channel,
      action: 'sso.configure',
      targetType: 'sso',
      targetId: 'oidc',
      details: { changed: Object.keys(given), clientSecret: clientSecret !== undefined ? '(changed)' : undefined },
    });
    return (await this.view())!;
  }

  async off(actor: Actor): Promise<boolean> {
    const changed = await this.store.setEnabled(false, this.d.clock.now());
    this.oidc.forget();
    await this.d.audit({
      actor: actor.username,
      actorId: actor.id,
      channel: actor.channel,
      action: 'sso.off',
      targetType: 'sso',
      targetId: 'oidc',
    });
    return changed;
  }

  private async provider(requireEnabled: boolean): Promise<Provider> {
    const c = await this.store.config();
    if (!c) throw new GatehouseError('not_found', 'single sign-on is not configured (gatehouse sso set)');
    if (requireEnabled && !c.enabled) throw new GatehouseError('not_found', 'single sign-on is turned off (gatehouse sso set turns it on)');
    if (!c.clientSecretEnc)
      throw new GatehouseError('invalid', 'single sign-on has no client secret (gatehouse sso set --client-secret-stdin)');
    const settings = parseSsoSettings(c.settings);
    return this.oidc.provider(settings, this.d.vault.open(c.clientSecretEnc), `${c.updatedAt}:${c.clientSecretEnc}`);
  }

  /** The dry run: discovery, and the authorization URL a login would use (nothing is stored). */
  async test(): Promise<{ issuer: string; authorizationEndpoint: string; tokenEndpoint: string; redirectUri: string; scopes: string }> {
    const p = await this.provider(false);
    const m = p.config.serverMetadata();
    if (!m.authorization_endpoint || !m.token_endpoint)
      throw new GatehouseError('invalid', 'the provider lists no authorization or token endpoint');
    const supported = m.code_challenge_methods_supported;
    if (supported && !supported.includes('S256')) throw new GatehouseError('invalid', 'the provider does not support PKCE with S256');
    await this.oidc.begin(p, this.redirectUri);
    return {
      issuer: m.issuer,
      authorizationEndpoint: m.authorization_endpoint,
      tokenEndpoint: m.token_endpoint,
      redirectUri: this.redirectUri,
      scopes: p.settings.scopes,
    };
  }

  /**
   * Starts a login: stores the transaction and returns the provider's authorization URL, and the value of
   * the cookie that binds the transaction to this browser (a callback URL sent to someone else is refused).
   */
  async begin(returnTo: string, clientAddr: string | null): Promise<{ url: URL; browser: string }> {
    const p = await this.provider(true);
    const { url, tx } = await this.oidc.begin(p, this.redirectUri);
    const now = this.d.clock.now();
    const browser = randomBytes(24).toString('base64url');
    const row = { ...tx, returnTo, browserHash: sha256(browser), clientAddr, createdAt: now, expiresAt: now + LOGIN_TTL_MS };
    if (!(await this.store.putLogin(row, now, MAX_PENDING_LOGINS)))
      throw new GatehouseError('unavailable', 'too many sign-ins are in progress; try again in a few minutes');
    return { url, browser };
  }

  /** Ends a login: the transaction is taken (once), the code exchanged and checked, the user found or made. */
  async finish(callbackUrl: URL, browser: string | undefined): Promise<{ user: User; returnTo: string }> {
    const state = callbackUrl.searchParams.get('state');
    if (!state || state.length > 64) throw new GatehouseError('forbidden', 'the sign-in response carries no valid state');
    const tx = await this.store.takeLogin(state, this.d.clock.now());
    if (!tx) throw new GatehouseError('forbidden', 'this sign-in is unknown, already used or expired: start again');
    if (!browser || sha256(browser) !== tx.browserHash)
      throw new GatehouseError('forbidden', 'this sign-in was started in another browser: start again from the login page');
    const err = callbackUrl.searchParams.get('error');
    if (err) throw new GatehouseError('forbidden', `the provider refused the sign-in: ${err.slice(0, 100)}`);
    const p = await this.provider(true);
    const claims = await this.oidc.finish(p, callbackUrl, tx);
    const breakGlass = (await this.d.breakGlassUser()).trim().toLowerCase();
    if (breakGlass && usernameOf(p.settings, claims) === breakGlass)
      throw new GatehouseError('forbidden', `'${breakGlass}' is the break-glass account: it signs in with its password only`);
    const deps = { store: this.store, admin: this.d.admin, policy: this.d.policy, now: () => this.d.clock.now() };
    return { user: await userFor(deps, p.settings, claims), returnTo: tx.returnTo };
  }

  /** The leaver: every console session, API token and live device session of the user ends now. */
  async signOut(actor: Actor, username: string): Promise<{ sessions: number; tokens: number }> {
    const u = (await this.d.policy.current()).usersByName.get(username);
    if (!u) throw new GatehouseError('not_found', `unknown user '${username}'`);
    const r = await this.store.signOutUser(u.id, this.d.clock.now());
    await this.d.endSessions(u.id, 'access ended: signed out by an administrator');
    await this.d.audit({
      actor: actor.username,
      actorId: actor.id,
      channel: actor.channel,
      action: 'user.sign-out',
      targetType: 'user',
      targetId: u.id,
      details: { username, ...r },
    });
    return r;
  }
}
