// Builds the core services on a database from given crypto and directory parts. The server passes the real
// ones (services.ts); the CLI passes lazy ones, so a data command loads no ssh2, argon2 or LDAP code it never calls.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tightenTree } from './storage/private-files.js';
import { join } from 'node:path';
import type { Config } from './config/env.js';
import { AdminService, type Actor } from './core/admin/service.js';
import { ApprovalService, type ParamSource } from './core/approvals/service.js';
import { EventBus } from './core/events.js';
import { Params } from './core/params.js';
import { GrantCache, PolicyCache } from './core/policy/cache.js';
import { systemClock, type Clock } from './core/ports/clock.js';
import type { Logger } from './log.js';
import type { KeyTools, PasswordHasher } from './core/ports/crypto.js';
import type { DeciderFactor } from './core/approvals/approver.js';
import { AesGcmVault } from './crypto/vault.js';
import { migrate, openDb } from './storage/db.js';
import { auditKeyFrom } from './storage/audit-log.js';
import { repositories, type Repositories } from './storage/repositories.js';
import { KyselyStore } from './storage/store.js';
import { SessionRegistry, type SessionStorePort } from './core/sessions.js';
import { AuthService, type DirectoryLogin, type SecondFactor } from './core/auth.js';
import { LoginLimiter } from './core/limiter.js';
import type { ProtocolRepositories } from './core/ports/protocol-repos.js';
import { protocolRepositories } from './storage/protocol-repos.js';
import { DelegationService } from './core/delegations.js';
import { PasskeyService } from './core/passkeys.js';
import type { AdminStore } from './core/ports/admin-store.js';
import type { ApiStore } from './core/ports/api-store.js';
import type { DirectoryStore } from './core/ports/directory-store.js';
import type { MailStore } from './core/ports/mail.js';
import type { Store } from './core/ports/store.js';
import type { WebhookStore } from './core/ports/webhooks.js';
import type { ChatStore } from './core/ports/chat.js';
import type { LoginTicketStore } from './core/ports/login-tickets.js';
import type { NodeStorePort } from './core/nodes.js';
import type { AuditEntry, User } from './core/types.js';
import type { DirectoryDeps } from './directory/service.js';
import type { DelegationsTo } from './directory/totp.js';
import type { SsoStore } from './sso/store.js';
import { SshSsoService, type SshSsoDeps } from './core/ssh-sso.js';

export interface Services extends ProtocolRepositories {
  config: Config;
  log: Logger;
  clock: Clock;
  /** Approval requests, grants, decisions, delegations, events and policy reads. */
  store: Store;
  /** Policy writes with their audit records, password hashes, keys and the audit list. */
  adminStore: AdminStore;
  /** Console sessions, API tokens, the approver index and the console's list queries. */
  apiStore: ApiStore;
  /** The directory's settings, links and the second factor's secrets. */
  directoryStore: DirectoryStore;
  /** The mail outbox, link tokens, reply secrets and mail settings. */
  mail: MailStore;
  /** OpenID Connect settings, login transactions and subject links; the leaver's sign-out. */
  ssoStore: SsoStore;
  /** Webhook endpoints and their delivery outbox. */
  webhooks: WebhookStore;
  /** Chat approvals (Slack, Mattermost): settings, outbox, messages posted. */
  chat: ChatStore;
  /** Cluster nodes and their heartbeats. */
  nodeStore: NodeStorePort;
  /** The login's second-factor tickets (shared by every worker and node). */
  loginTickets: LoginTicketStore;
  /** Delegation of approval rights, validated. */
  delegations: DelegationService;
  /** Passkeys (WebAuthn): enrolment, the login's second factor, and decisions' assertions. */
  passkeys: PasskeyService;
  bus: EventBus;
  policy: PolicyCache;
  grants: GrantCache;
  params: ParamSource & { invalidate(): void };
  approvals: ApprovalService;
  admin: AdminService;
  vault: AesGcmVault;
  hasher: PasswordHasher;
  sessions: SessionRegistry;
  auth: AuthService;
  /** Counts every password and code attempt in the database, before the secret is checked. */
  limiter: LoginLimiter;
  /** Appends one audit record (logins, SFTP operations, host-key events…); approval transitions audit themselves. */
  audit(e: AuditEntry): Promise<void>;
  /** Audit records written through audit() by this process, by action (for /metrics). */
  auditCounts: Map<string, number>;
  /** The statement audit of each database listener in this process, by protocol (for /metrics). */
  statementAudits: Map<string, { readonly dropped: number; readonly written: number }>;
  /** This node's stable id (GATEHOUSE_NODE_ID, else generated into the data dir). */
  nodeId: string;
  /** SSH login through a console link (ssh.login.method). */
  sshSso: SshSsoService;
  close(): Promise<void>;
}

/** What Services needs from the directory: sync ownership and LDAP login, and the TOTP second factor. */
export interface DirectoryHooks {
  directory: DirectoryLogin & { isSyncedGroup(name: string): Promise<boolean> };
  totp: SecondFactor & DeciderFactor;
}

/** The parts that pull in native or network libraries, chosen by whoever opens the services. */
export interface ServiceParts {
  hasher: PasswordHasher;
  keys: KeyTools;
  directory(deps: DirectoryDeps & { params: ParamSource; delegationsTo: DelegationsTo }): DirectoryHooks;
}

export interface OpenOptions {
  clock?: Clock;
  migrate?: boolean;
  onQuery?: (sql: string) => void;
}

class ParamsCache implements ParamSource {
  private cached: Params | null = null;
  constructor(
    private readonly store: Pick<Store, 'loadParams'>,
    bus: EventBus,
  ) {
    bus.subscribe((e) => {
      if (e.type === 'policy.changed') this.cached = null;
    });
  }
  invalidate() {
    this.cached = null;
  }
  async params(): Promise<Params> {
    this.cached ??= new Params(await this.store.loadParams());
    return this.cached;
  }
}

/** The vault key: GATEHOUSE_SECRET_KEY, else <data dir>/secret.key, generated with mode 0600 on first use. */
export function vaultKey(config: Config): string {
  if (config.secretKey) return config.secretKey;
  const file = join(config.dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** GATEHOUSE_NODE_ID, else a random id persisted in the data dir. */
export function nodeId(config: Config): string {
  if (config.nodeId) return config.nodeId;
  const file = join(config.dataDir, 'node-id');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `node-${randomBytes(4).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    } catch {
      // another process wrote it first
    }
  }
  return readFileSync(file, 'utf8').trim();
}

async function openStore(config: Config, opts: OpenOptions): Promise<KyselyStore> {
  const db = openDb({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, onQuery: opts.onQuery });
  const store = new KyselyStore(db);
  try {
    if (opts.migrate !== false) await migrate(db);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/** Whatever an older version or an operator left readable in the data dir is tightened (0700/0600). */
function tightenDataDirs(config: Config, log: Logger): void {
  const loose = [config.dataDir, ...(`${config.recordingsDir}/`.startsWith(`${config.dataDir}/`) ? [] : [config.recordingsDir])].flatMap(
    (d) => tightenTree(d),
  );
  if (loose.length)
    log.warn({ paths: loose.slice(0, 20) }, 'could not make these data paths private (0700 dirs, 0600 files): fix their owner or mode');
}

/** SSH login through a link; its URLs read the public URL late (a port 0 is resolved once listening). */
function sshSsoOf(config: Config, deps: Omit<SshSsoDeps, 'publicUrl' | 'nodeId'>): SshSsoService {
  return new SshSsoService({ ...deps, publicUrl: () => config.publicUrl, nodeId: nodeId(config) });
}

/** Passkeys, and the second factor a decider must have proved: a TOTP the directory asks for, or any enrolled passkey. */
function decisionFactors(config: Config, repos: Repositories, clock: Clock, dir: DirectoryHooks) {
  const url = new URL(config.publicUrl);
  const passkeys = new PasskeyService(repos.passkeyStore, clock, { id: url.hostname, origin: url.origin, name: 'Gatehouse' });
  const factor = { requiredToDecide: async (u: User) => (await dir.totp.requiredToDecide(u)) || (await passkeys.has(u.id)) };
  return { passkeys, factor };
}

/** The audit writer, counting records per action for the metrics. */
function countingAudit(repos: Repositories, clock: Clock) {
  const auditCounts = new Map<string, number>();
  const audit = (e: AuditEntry) => {
    auditCounts.set(e.action, (auditCounts.get(e.action) ?? 0) + 1);
    return repos.sessionStore.appendAudit(e, clock.now());
  };
  return { auditCounts, audit };
}

/** Live sessions; a user may hold them while they exist and are not disabled. */
function sessionRegistry(store: SessionStorePort, clock: Clock, bus: EventBus, log: Logger, policy: PolicyCache): SessionRegistry {
  const onError = (err: unknown) => log.warn({ err: String(err) }, 'session bookkeeping failed');
  return new SessionRegistry(store, clock, bus, onError, async (userId) => {
    const u = (await policy.current()).usersById.get(userId);
    return u !== undefined && !u.disabled;
  });
}

export async function buildServices(config: Config, log: Logger, parts: ServiceParts, opts: OpenOptions = {}): Promise<Services> {
  const clock = opts.clock ?? systemClock;
  const store = await openStore(config, opts);
  const key = vaultKey(config);
  tightenDataDirs(config, log);
  store.auditKey = auditKeyFrom(key);
  const repos = repositories(store, () => clock.now());
  const { adminStore, sessionStore } = repos;
  const bus = new EventBus(store, config.eventPollMs, (err) => log.warn({ err: String(err) }, 'event poll failed'));
  const policy = new PolicyCache(store, bus);
  const grants = new GrantCache(bus);
  const params = new ParamsCache(store, bus);
  const vault = new AesGcmVault(key);
  const dir = parts.directory({
    store: repos.directoryStore,
    vault,
    admin: adminStore,
    policy,
    clock,
    nodeId: nodeId(config),
    params,
    log,
    audit: (e) => sessionStore.appendAudit(e, clock.now()),
    delegationsTo: (u, at) => store.delegationsTo(u, at),
  });
  // The second factor is checked by the engine at every decision, whatever the channel.
  const { passkeys, factor } = decisionFactors(config, repos, clock, dir);
  const approvals = new ApprovalService(store, policy, grants, params, clock, bus, factor, passkeys);
  const admin = new AdminService(
    store,
    adminStore,
    policy,
    parts.hasher,
    vault,
    parts.keys,
    clock,
    () => params.invalidate(),
    dir.directory,
  );
  await grants.load(store, clock.now());
  const { auditCounts, audit } = countingAudit(repos, clock);
  const sessions = sessionRegistry(sessionStore, clock, bus, log, policy);
  return {
    config,
    log,
    clock,
    store,
    adminStore,
    bus,
    policy,
    grants,
    params,
    approvals,
    admin,
    vault,
    hasher: parts.hasher,
    sessions,
    ...protocolRepositories(store),
    apiStore: repos.apiStore,
    directoryStore: repos.directoryStore,
    mail: repos.mail,
    ssoStore: repos.ssoStore,
    webhooks: repos.webhooks,
    chat: repos.chat,
    nodeStore: repos.nodeStore,
    loginTickets: repos.loginTickets,
    delegations: new DelegationService(store, policy, clock, params, passkeys),
    passkeys,
    auth: new AuthService(adminStore, policy, parts.hasher, dir.directory, dir.totp),
    limiter: new LoginLimiter(repos.loginAttempts, clock),
    auditCounts,
    statementAudits: new Map(),
    audit,
    nodeId: nodeId(config),
    sshSso: sshSsoOf(config, { store: repos.sshSsoStore, policy, params, admin: adminStore, clock, audit }),
    async close() {
      bus.stop();
      await store.close();
    },
  };
}

export const SYSTEM_ACTOR: Actor = { username: 'system', id: null, channel: 'system' };

/** First run: create `admin` (password from GATEHOUSE_ADMIN_PASSWORD, else generated and returned to print once). */
export async function ensureAdmin(s: Services): Promise<{ created: boolean; generatedPassword?: string }> {
  const p = await s.policy.current();
  if (p.usersByName.has('admin')) return { created: false };
  const generated = s.config.adminPassword ? undefined : randomBytes(12).toString('base64url');
  try {
    await s.admin.addUser(SYSTEM_ACTOR, {
      username: 'admin',
      displayName: 'Administrator',
      password: s.config.adminPassword ?? generated,
      admin: true,
    });
  } catch (err) {
    // Another process created it at the same moment: fine.
    if ((err as { code?: string }).code === 'conflict') return { created: false };
    throw err;
  }
  return { created: true, generatedPassword: generated };
}
