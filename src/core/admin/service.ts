// Policy administration: users, groups, devices, accounts, access rules, workflows, parameters.
// Validates input, resolves names, and writes through AdminStore (audit + policy.changed in one tx).
import { GatehouseError } from '../errors.js';
import type { AdminStore, UserRow } from '../ports/admin-store.js';
import type { KeyTools, PasswordHasher, Vault } from '../ports/crypto.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { PolicyCache } from '../policy/cache.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { normaliseParam, Params, PARAM_DEFS } from '../params.js';
import type { Channel, Protocol, WorkflowLevel } from '../types.js';
import { checkWorkflow, workflowView, type WorkflowInput } from './workflows.js';
import { accountSecretInput, checkHost, checkName, parseProtocols, resolvePorts, userIdsNamed } from './validate.js';
import { auditEntry, deviceChange, deviceGroupId, userBefore, type DevicePatch } from './changes.js';
import {
  checkNewUser,
  checkUserPatch,
  groupWarnings,
  planUserGroup,
  type NewUserInput,
  type UserGroupInput,
  type UserPatchInput,
} from './people.js';
import { FieldProblems } from './problems.js';
import { pinHostKey } from './devices.js';

export interface Actor {
  username: string;
  id: number | null;
  channel: Channel;
}

export { checkName, parseProtocols };

export class AdminService {
  constructor(
    private readonly store: Store,
    private readonly admin: AdminStore,
    private readonly policy: PolicyCache,
    private readonly hasher: PasswordHasher,
    private readonly vault: Vault,
    private readonly keys: KeyTools,
    private readonly clock: Clock,
    /** Called after every write, so this process drops cached policy and parameters at once. */
    private readonly afterWrite: () => void = () => {},
    /** The directory sync, when configured: synced groups' members and managers are the directory's. */
    private readonly directory?: { isSyncedGroup(name: string): Promise<boolean> },
  ) {}

  /** Refuses local edits of fields a directory or SSO owns (users with source 'ldap' or 'sso', synced groups). */
  private async directoryOwns(kind: 'user' | 'group', name: string, fields: string[]): Promise<void> {
    if (!fields.length) return;
    const owned =
      kind === 'user'
        ? ['ldap', 'sso'].includes((await this.snap()).usersByName.get(name)?.source ?? '')
        : ((await this.directory?.isSyncedGroup(name)) ?? false);
    if (owned)
      throw new GatehouseError(
        'forbidden',
        `${kind} '${name}' comes from the directory, which owns ${fields.join(', ')}: change ${fields.length > 1 ? 'them' : 'it'} in the directory (the next sync brings it here)`,
        fields[0],
      );
  }

  /** Refuses a membership change in a group the directory sync owns (its next run would undo it). */
  private async membersNotSynced(p: PolicySnapshot, groupIds: number[]): Promise<void> {
    for (const id of groupIds) {
      const name = p.userGroupsById.get(id)?.name ?? '';
      if (await this.directory?.isSyncedGroup(name))
        throw new FieldProblems('forbidden', { groups: `The directory owns the members of '${name}': change them in the directory` });
    }
  }

  private async snap(): Promise<PolicySnapshot> {
    return this.policy.current();
  }

  private audit(actor: Actor, action: string, targetType: string, targetId: string | number, details?: Record<string, unknown>) {
    return auditEntry(actor, action, targetType, targetId, details);
  }

  private async done<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      const msg = String((err as Error)?.message ?? err);
      if (/unique|duplicate/i.test(msg)) throw new GatehouseError('conflict', 'that name is already taken');
      throw err;
    } finally {
      this.policy.invalidate();
      this.afterWrite();
    }
  }

  async userId(p: PolicySnapshot, name: string): Promise<number> {
    const u = p.usersByName.get(name);
    if (!u) throw new GatehouseError('not_found', `unknown user '${name}'`);
    return u.id;
  }

  async addUser(actor: Actor, input: NewUserInput): Promise<number> {
    const p = await this.snap();
    const { email, managerId, keys, join } = checkNewUser(p, this.keys, input);
    await this.membersNotSynced(p, join);
    // Hashed only once everything else is known to be right.
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    const row: UserRow = {
      username: input.username,
      displayName: input.displayName?.trim() || input.username,
      email,
      passwordHash,
      managerId,
      isAdmin: !!input.admin,
      disabled: false,
      source: input.source,
    };
    const shown = {
      username: input.username,
      email,
      manager: input.manager ?? null,
      admin: !!input.admin,
      keys: keys.map((k) => k.fingerprint),
    };
    return this.done(
      this.admin.write(
        (id: number) => this.audit(actor, 'user.create', 'user', id, shown),
        async (w) => {
          const id = await w.insertUser(row);
          for (const k of keys) await w.addUserKey(id, k.publicKey, k.fingerprint, k.comment);
          for (const g of join) await w.addMember(g, id);
          return id;
        },
      ),
    );
  }

  async setUser(actor: Actor, username: string, patch: UserPatchInput): Promise<void> {
    const p = await this.snap();
    const id = await this.userId(p, username);
    await this.directoryOwns(
      'user',
      username,
      (['displayName', 'email', 'password', 'manager'] as const).filter((f) => patch[f] !== undefined),
    );
    const { row, keys, join, leave } = checkUserPatch(p, this.keys, id, username, patch);
    await this.membersNotSynced(p, [...join, ...leave]);
    if (patch.password !== undefined) row.passwordHash = await this.hasher.hash(patch.password);
    const shown = {
      ...patch,
      password: patch.password !== undefined ? '(changed)' : undefined,
      addSshKeys: keys.map((k) => k.fingerprint),
    };
    await this.done(
      this.admin.write(this.audit(actor, 'user.update', 'user', id, { username, ...shown, before: userBefore(p, id) }), async (w) => {
        await w.updateUser(id, row);
        for (const k of keys) await w.addUserKey(id, k.publicKey, k.fingerprint, k.comment);
        for (const g of join) await w.addMember(g, id);
        for (const g of leave) await w.removeMember(g, id);
      }),
    );
  }

  /**
   * The user-group wizard's save: everything (name, members, managers, approval settings) is checked
   * first, every problem reported at once, then written in one transaction. `existing` null creates.
   */
  async saveUserGroup(actor: Actor, existing: string | null, input: UserGroupInput): Promise<{ id: number; warnings: string[] }> {
    const p = await this.snap();
    const g = existing === null ? null : p.userGroupsByName.get(existing);
    if (g === undefined) throw new GatehouseError('not_found', `unknown user group '${existing}'`);
    const synced = g !== null && ((await this.directory?.isSyncedGroup(g.name)) ?? false);
    const plan = planUserGroup(p, g, input, synced);
    const action = g ? 'user-group.update' : 'user-group.create';
    const id = await this.done(
      this.admin.write((gid: number) => this.audit(actor, action, 'user-group', gid, { ...input, before: plan.before }), plan.write),
    );
    return { id, warnings: plan.warnings };
  }

  /** Warnings about a user group as it stands (the CLI prints them after a change). */
  async userGroupWarnings(name: string): Promise<string[]> {
    const p = await this.snap();
    const g = p.userGroupsByName.get(name);
    return g ? groupWarnings(g.requireApproval, g.managerIds) : [];
  }

  async addGroup(
    actor: Actor,
    kind: 'user' | 'device',
    name: string,
    opts: { managers?: string[]; requireApproval?: boolean; requireReason?: boolean; description?: string | null },
  ): Promise<number> {
    checkName(kind === 'user' ? 'user group' : 'device group', name);
    const p = await this.snap();
    const managerIds = await Promise.all((opts.managers ?? []).map((m) => this.userId(p, m)));
    return this.done(
      this.admin.write(
        (id: number) => this.audit(actor, `${kind}-group.create`, `${kind}-group`, id, { name, ...opts }),
        async (w) => {
          const id = await w.insertGroup(kind, {
            name,
            description: opts.description ?? null,
            requireApproval: !!opts.requireApproval,
            requireReason: !!opts.requireReason,
          });
          await w.setManagers(kind, id, managerIds);
          return id;
        },
      ),
    );
  }

  async setGroup(
    actor: Actor,
    kind: 'user' | 'device',
    name: string,
    opts: { managers?: string[]; requireApproval?: boolean; requireReason?: boolean; description?: string | null; rename?: string },
  ): Promise<void> {
    const p = await this.snap();
    const g = kind === 'user' ? p.userGroupsByName.get(name) : [...p.deviceGroupsById.values()].find((x) => x.name === name);
    if (!g) throw new GatehouseError('not_found', `unknown ${kind} group '${name}'`);
    if (opts.rename !== undefined) checkName(`${kind} group`, opts.rename);
    if (kind === 'user')
      await this.directoryOwns(
        'group',
        name,
        (['rename', 'managers'] as const).filter((f) => opts[f] !== undefined),
      );
    const managerIds = opts.managers ? await Promise.all(opts.managers.map((m) => this.userId(p, m))) : undefined;
    await this.done(
      this.admin.write(
        this.audit(actor, `${kind}-group.update`, `${kind}-group`, g.id, {
          name,
          ...opts,
          before: {
            name: g.name,
            requireApproval: g.requireApproval,
            requireReason: g.requireReason,
            managers: g.managerIds.map((m) => p.userName(m)),
          },
        }),
        async (w) => {
          await w.updateGroup(kind, g.id, {
            name: opts.rename,
            requireApproval: opts.requireApproval,
            requireReason: opts.requireReason,
            description: opts.description,
          });
          if (managerIds) await w.setManagers(kind, g.id, managerIds);
        },
      ),
    );
  }

  async addMember(actor: Actor, group: string, username: string, remove = false): Promise<boolean> {
    return (await this.addMembers(actor, group, [username], remove)) > 0;
  }

  /**
   * Adds (or removes) several users in one transaction: every name is checked first and all unknown ones
   * are named at once, so a typo changes nothing. Returns how many memberships changed.
   */
  async addMembers(actor: Actor, group: string, usernames: readonly string[], remove = false): Promise<number> {
    const p = await this.snap();
    const g = p.userGroupsByName.get(group);
    if (!g) throw new GatehouseError('not_found', `unknown user group '${group}'`);
    const uids = userIdsNamed(p, usernames);
    await this.directoryOwns('group', group, ['members']);
    const detail = usernames.length === 1 ? { group, username: usernames[0] } : { group, usernames: [...usernames] };
    return this.done(
      this.admin.write(
        this.audit(actor, remove ? 'user-group.remove-member' : 'user-group.add-member', 'user-group', g.id, detail),
        async (w) => {
          let changed = 0;
          for (const uid of uids) if (await (remove ? w.removeMember(g.id, uid) : w.addMember(g.id, uid))) changed++;
          return changed;
        },
      ),
    );
  }

  async addDevice(
    actor: Actor,
    input: {
      name: string;
      host: string;
      protocols: string | string[];
      group?: string | null;
      ports?: Partial<Record<Protocol, number>>;
      port?: number;
      options?: Record<string, unknown>;
    },
  ): Promise<number> {
    checkName('device', input.name);
    const host = checkHost(input.host);
    const protocols = parseProtocols(input.protocols);
    const p = await this.snap();
    if (p.devicesByName.has(input.name)) throw new GatehouseError('conflict', `device '${input.name}' already exists`);
    const groupId = input.group ? deviceGroupId(p, input.group) : null;
    const ports = resolvePorts(protocols, input.ports, input.port);
    return this.done(
      this.admin.write(
        (id: number) =>
          this.audit(actor, 'device.create', 'device', id, { name: input.name, host, protocols, group: input.group ?? null, ports }),
        (w) => w.insertDevice({ name: input.name, host, ports, protocols, groupId, enabled: true, options: input.options }),
      ),
    );
  }

  async setDevice(actor: Actor, name: string, patch: DevicePatch): Promise<void> {
    const p = await this.snap();
    const d = p.devicesByName.get(name);
    if (!d) throw new GatehouseError('not_found', `unknown device '${name}'`);
    const { row, action, before } = deviceChange(p, d, patch);
    await this.done(
      this.admin.write(this.audit(actor, action, 'device', d.id, { name, ...patch, before }), (w) => w.updateDevice(d.id, row)),
    );
  }

  /** Trust on first use: see pinHostKey in devices.ts. */
  pinHostKey(actor: Actor, device: { id: number; name: string }, hostKey: string): Promise<string | null> {
    return pinHostKey(this.admin, actor, device, hostKey);
  }

  /** Adds (or replaces) an account on a device; the secret is sealed in the vault and never shown again. */
  async addAccount(
    actor: Actor,
    device: string,
    name: string,
    secret: { password?: string; privateKey?: string },
    isDefault?: boolean,
  ): Promise<number> {
    checkName('account', name);
    const p = await this.snap();
    const d = p.devicesByName.get(device);
    if (!d) throw new GatehouseError('not_found', `unknown device '${device}'`);
    const { kind, plain } = accountSecretInput(this.keys, secret);
    const existing = p.accountsOfDevice.get(d.id) ?? [];
    const makeDefault = isDefault ?? existing.filter((a) => a.name !== name).length === 0;
    const secretEnc = this.vault.seal(plain);
    return this.done(
      this.admin.write(
        (id: number) => this.audit(actor, 'account.set', 'account', id, { device, name, secretKind: kind, isDefault: makeDefault }),
        (w) => w.insertAccount(d.id, { name, secretKind: kind, secretEnc, isDefault: makeDefault }),
      ),
    );
  }

  /** The account's secret, for a protocol front-end about to connect upstream. Never log or return it. */
  async accountSecret(accountId: number): Promise<{ kind: 'password' | 'key'; secret: string }> {
    const s = await this.admin.accountSecret(accountId);
    if (!s) throw new GatehouseError('not_found', 'account not found');
    return { kind: s.kind, secret: this.vault.open(s.enc) };
  }

  async grantAccess(
    actor: Actor,
    userGroup: string,
    deviceGroup: string,
    protocols: string | string[],
    allowPortForwarding = false,
  ): Promise<number> {
    const p = await this.snap();
    const ug = p.userGroupsByName.get(userGroup);
    if (!ug) throw new GatehouseError('not_found', `unknown user group '${userGroup}'`);
    const dg = deviceGroupId(p, deviceGroup);
    const list = parseProtocols(protocols);
    return this.done(
      this.admin.write(
        this.audit(actor, 'access.grant', 'access-rule', `${userGroup}:${deviceGroup}`, {
          userGroup,
          deviceGroup,
          protocols: list,
          allowPortForwarding,
        }),
        (w) => w.upsertAccessRule(ug.id, dg, list, allowPortForwarding),
      ),
    );
  }

  async revokeAccess(actor: Actor, userGroup: string, deviceGroup: string): Promise<boolean> {
    const p = await this.snap();
    const ug = p.userGroupsByName.get(userGroup);
    if (!ug) throw new GatehouseError('not_found', `unknown user group '${userGroup}'`);
    const dg = deviceGroupId(p, deviceGroup);
    return this.done(
      this.admin.write(this.audit(actor, 'access.revoke', 'access-rule', `${userGroup}:${deviceGroup}`, { userGroup, deviceGroup }), (w) =>
        w.deleteAccessRule(ug.id, dg),
      ),
    );
  }

  async addWorkflow(
    actor: Actor,
    name: string,
    userGroup: string,
    deviceGroup: string,
    levelSpecs: (string | WorkflowLevel)[],
  ): Promise<number> {
    const w = checkWorkflow(await this.snap(), { name, userGroup, deviceGroup, levels: levelSpecs });
    return this.done(
      this.admin.write(
        (id: number) => this.audit(actor, 'workflow.create', 'workflow', id, { name, userGroup, deviceGroup, levels: w.levels }),
        (wr) => wr.insertWorkflow(name, w.userGroupId, w.deviceGroupId, w.levels),
      ),
    );
  }

  /** Replaces a workflow's name, pair and levels at once (validated whole, one transaction); it keeps its id. */
  async setWorkflow(actor: Actor, name: string, input: WorkflowInput): Promise<number> {
    const p = await this.snap();
    const self = [...p.workflows.values()].find((w) => w.name === name);
    if (!self) throw new GatehouseError('not_found', `No workflow named '${name}'`);
    const w = checkWorkflow(p, input, self);
    const before = workflowView(p, self);
    await this.done(
      this.admin.write(this.audit(actor, 'workflow.update', 'workflow', self.id, { ...workflowView(p, { ...self, ...w }), before }), (wr) =>
        wr.updateWorkflow(self.id, w),
      ),
    );
    return self.id;
  }

  async removeWorkflow(actor: Actor, name: string): Promise<void> {
    const ok = await this.done(
      this.admin.write(this.audit(actor, 'workflow.delete', 'workflow', name, { name }), (w) => w.deleteWorkflow(name)),
    );
    if (!ok) throw new GatehouseError('not_found', `unknown workflow '${name}'`);
  }

  async params(): Promise<Params> {
    return new Params(await this.store.loadParams());
  }

  async setParam(actor: Actor, name: string, value: string): Promise<string> {
    const v = normaliseParam(name, value);
    const before = (await this.params()).raw(name);
    await this.done(
      this.admin.write(this.audit(actor, 'param.set', 'param', name, { before, after: v }), (w) => w.setParam(name, v, this.clock.now())),
    );
    return v;
  }

  paramDefs() {
    return PARAM_DEFS;
  }
}
