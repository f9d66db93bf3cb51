// The directory as a service: its settings (bind password sealed in the vault), sync on demand or on a
// schedule (one node at a time, by a lease), and LDAP login (a bind as the user, nothing cached).
import type { Actor } from '../core/admin/service.js';
import { GatehouseError } from '../core/errors.js';
import type { AdminStore } from '../core/ports/admin-store.js';
import type { Clock } from '../core/ports/clock.js';
import type { Vault } from '../core/ports/crypto.js';
import type { PolicyCache } from '../core/policy/cache.js';
import type { AuditEntry } from '../core/types.js';
import { applyPlan } from './apply.js';
import { DIRECTORY_SOURCE, parseSettings, type DirectorySettings } from './config.js';
import { isEmptyPlan, planSync, summarise, type SyncSummary } from './diff.js';
import { bindAsUser, readDirectory } from './ldap.js';
import { mapDirectory } from './mapping.js';
import type { DirectoryStore } from '../core/ports/directory-store.js';

export interface DirectoryDeps {
  store: DirectoryStore;
  vault: Vault;
  admin: AdminStore;
  policy: PolicyCache;
  clock: Clock;
  audit(e: AuditEntry): Promise<void>;
  nodeId: string;
  /** Warnings (the directory unreachable at login). */
  log?: { warn(obj: Record<string, unknown>, msg: string): void };
}

export interface DirectoryView {
  settings: DirectorySettings;
  bindPasswordSet: boolean;
  updatedAt: number;
  lastSyncAt: number | null;
  lastSummary: SyncSummary | null;
}

export interface SyncResult {
  dryRun: boolean;
  /** False when nothing needed changing (or a dry run). */
  applied: boolean;
  summary: SyncSummary;
}

const LEASE_MS = 10 * 60_000;

export class DirectoryService {
  readonly store: DirectoryStore;
  constructor(private readonly d: DirectoryDeps) {
    this.store = d.store;
  }

  async view(): Promise<DirectoryView | null> {
    const c = await this.store.config();
    if (!c) return null;
    return {
      settings: parseSettings(c.settings),
      bindPasswordSet: !!c.bindPasswordEnc,
      updatedAt: c.updatedAt,
      lastSyncAt: c.lastSyncAt,
      lastSummary: c.lastSummary as SyncSummary | null,
    };
  }

  private async loaded(): Promise<{ settings: DirectorySettings; password: string }> {
    const c = await this.store.config();
    if (!c) throw new GatehouseError('not_found', 'no directory is configured: run gatehouse directory set first');
    if (!c.bindPasswordEnc)
      throw new GatehouseError('invalid', 'the directory has no bind password: gatehouse directory set --bind-password-stdin');
    return { settings: parseSettings(c.settings), password: this.d.vault.open(c.bindPasswordEnc) };
  }

  /** Sets (or changes) the settings; fields not given keep their value. */
  async configure(
    actor: Actor,
    patch: Partial<DirectorySettings> & { attributes?: Partial<DirectorySettings['attributes']> },
    bindPassword?: string,
  ): Promise<DirectoryView> {
    const current = (await this.store.config())?.settings as Partial<DirectorySettings> | undefined;
    const merged = { ...current, ...patch, attributes: { ...current?.attributes, ...patch.attributes } };
    const settings = parseSettings(merged);
    if (bindPassword !== undefined && bindPassword.length === 0)
      throw new GatehouseError('invalid', 'the bind password is empty', 'bindPassword');
    const now = this.d.clock.now();
    await this.store.saveConfig(settings, bindPassword !== undefined ? this.d.vault.seal(bindPassword) : undefined, now);
    const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
    await this.d.audit({
      actor: actor.username,
      actorId: actor.id,
      channel: actor.channel,
      action: 'directory.configure',
      targetType: 'directory',
      targetId: 'ldap',
      details: { changed, bindPassword: bindPassword !== undefined ? '(changed)' : undefined },
    });
    return (await this.view())!;
  }

  /** Reads the directory and brings local users and groups in line (or only says what it would do). */
  async sync(actor: Actor, opts: { dryRun?: boolean } = {}): Promise<SyncResult> {
    const { settings, password } = await this.loaded();
    const owner = `${this.d.nodeId}:${process.pid}`;
    if (!opts.dryRun && !(await this.store.takeLease(owner, this.d.clock.now(), LEASE_MS)))
      throw new GatehouseError('conflict', 'another directory sync is running; try again in a moment');
    try {
      const model = mapDirectory(await readDirectory(settings, password), settings);
      const p = await this.d.policy.current();
      const links = await this.store.links();
      const plan = planSync(model, p, links);
      const summary = summarise(plan);
      if (opts.dryRun) return { dryRun: true, applied: false, summary };
      const now = this.d.clock.now();
      // Links first (keyed by name, harmless if the write below fails: the next sync matches them again).
      await this.store.upsertLinks(plan.links, DIRECTORY_SOURCE, now, links);
      const applied = !isEmptyPlan(plan);
      if (applied) {
        await applyPlan(this.d.admin, actor, p, plan, summary);
        this.d.policy.invalidate();
      }
      await this.store.recordSync(summary, now);
      return { dryRun: false, applied, summary };
    } finally {
      if (!opts.dryRun) await this.store.releaseLease(owner);
    }
  }

  /** For AuthService: a bind as the user's DN. True only when the directory accepts the password. */
  async bind(username: string, password: string): Promise<boolean> {
    const link = await this.store.link('user', username);
    if (!link) return false;
    const c = await this.store.config();
    if (!c) return false;
    const r = await bindAsUser(parseSettings(c.settings), link.dn, password);
    if (r === 'unavailable')
      this.d.log?.warn({ username }, 'LDAP login: the directory could not be reached or refused the connection; login refused');
    return r === 'ok';
  }

  /** For AdminService: does the directory own this user group? */
  async isSyncedGroup(name: string): Promise<boolean> {
    return (await this.store.link('group', name)) !== undefined;
  }

  /** Runs due syncs every minute (when intervalMinutes > 0). Returns a stop function. */
  schedule(actor: Actor, onError: (err: unknown) => void, onDone: (r: SyncResult) => void = () => {}): () => void {
    let running = false;
    const tick = async () => {
      if (running) return;
      running = true;
      try {
        const c = await this.store.config();
        if (!c?.bindPasswordEnc) return;
        const settings = parseSettings(c.settings);
        if (!settings.intervalMinutes) return;
        if (c.lastSyncAt !== null && this.d.clock.now() - c.lastSyncAt < settings.intervalMinutes * 60_000) return;
        onDone(await this.sync(actor));
      } catch (err) {
        if (!(err instanceof GatehouseError && err.code === 'conflict')) onError(err);
      } finally {
        running = false;
      }
    };
    const timer = setInterval(() => void tick(), 60_000);
    timer.unref();
    void tick();
    return () => clearInterval(timer);
  }
}
