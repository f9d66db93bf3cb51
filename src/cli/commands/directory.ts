// gatehouse user|group|device-group|device|access|workflow — the policy directory.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import { presentDevice, presentUser } from '../../presenters/index.js';
import { action, collect, readStdin, table } from '../context.js';

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new GatehouseError('invalid', `cannot read ${what} file '${path}'`);
  }
}

export function registerDirectory(program: Command): void {
  const user = program.command('user').description('manage users');
  user
    .command('add <username>')
    .description('add a user')
    .option('--display-name <name>', 'full name')
    .option('--email <email>', 'email address (approval mail goes here)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--ssh-key <file>', 'an OpenSSH public key file (repeatable)', collect)
    .option('--manager <username>', 'line manager')
    .option('--admin', 'make the user an administrator')
    .action(
      action(async (ctx, username: string, o: { displayName?: string; email?: string; passwordStdin?: boolean; sshKey?: string[]; manager?: string; admin?: boolean }) => {
        const password = o.passwordStdin ? await readStdin() : undefined;
        const sshKeys = (o.sshKey ?? []).map((f) => readFile(f, 'SSH key'));
        const s = await ctx.s();
        const id = await s.admin.addUser(await ctx.actor(), { username, displayName: o.displayName, email: o.email, password, sshKeys, manager: o.manager, admin: o.admin });
        const p = await s.policy.current();
        ctx.out(presentUser(p, p.usersById.get(id)!), () => `added user ${username} (#${id})`);
      }),
    );
  user
    .command('set <username>')
    .description('change a user')
    .option('--display-name <name>')
    .option('--email <email>', "email address ('' clears it)")
    .option('--password-stdin', 'read a new password from standard input')
    .option('--ssh-key <file>', 'add an OpenSSH public key (repeatable)', collect)
    .option('--manager <username>', "line manager ('' clears it)")
    .option('--admin', 'make administrator')
    .option('--no-admin', 'remove administrator rights')
    .option('--disable', 'disable the user (history stays)')
    .option('--enable', 'enable the user again')
    .action(
      action(async (ctx, username: string, o: { displayName?: string; email?: string; passwordStdin?: boolean; sshKey?: string[]; manager?: string; admin?: boolean; disable?: boolean; enable?: boolean }) => {
        const password = o.passwordStdin ? await readStdin() : undefined;
        const s = await ctx.s();
        await s.admin.setUser(await ctx.actor(), username, {
          displayName: o.displayName,
          email: o.email,
          password,
          addSshKeys: (o.sshKey ?? []).map((f) => readFile(f, 'SSH key')),
          manager: o.manager,
          admin: o.admin,
          disabled: o.disable ? true : o.enable ? false : undefined,
        });
        const p = await s.policy.current();
        ctx.out(presentUser(p, p.usersByName.get(username)!), () => `updated user ${username}`);
      }),
    );
  user
    .command('list')
    .description('list users')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = [...p.usersById.values()].map((u) => presentUser(p, u));
        ctx.out(rows, () => table(rows, ['id', 'username', 'displayName', 'email', 'manager', 'admin', 'disabled', 'source', 'groups']));
      }),
    );

  for (const kind of ['user', 'device'] as const) {
    const name = kind === 'user' ? 'group' : 'device-group';
    const g = program.command(name).description(kind === 'user' ? 'manage user groups' : 'manage device groups');
    const common = (c: Command) =>
      c
        .option('--manager <username>', 'a group manager (repeatable)', collect)
        .option('--require-approval', 'Required Managerial Approval (from the group manager)')
        .option('--require-reason', 'require users to enter a reason for connection')
        .option('--description <text>');
    common(g.command('add <name>').description(`add a ${kind} group`)).action(
      action(async (ctx, gname: string, o: { manager?: string[]; requireApproval?: boolean; requireReason?: boolean; description?: string }) => {
        const s = await ctx.s();
        const id = await s.admin.addGroup(await ctx.actor(), kind, gname, { managers: o.manager, requireApproval: o.requireApproval, requireReason: o.requireReason, description: o.description });
        ctx.out({ id, name: gname, managers: o.manager ?? [], requireApproval: !!o.requireApproval, requireReason: !!o.requireReason }, () => `added ${kind} group ${gname} (#${id})`);
      }),
    );
    common(g.command('set <name>').description(`change a ${kind} group (--manager replaces the managers)`))
      .option('--no-require-approval', 'no managerial approval')
      .option('--no-require-reason', 'no reason needed')
      .option('--rename <new>', 'rename the group')
      .action(
        action(async (ctx, gname: string, o: { manager?: string[]; requireApproval?: boolean; requireReason?: boolean; description?: string; rename?: string }, cmd: Command) => {
          const src = (k: string) => (cmd.getOptionValueSource(k) === 'cli' ? (o as Record<string, unknown>)[k] : undefined) as boolean | undefined;
          const s = await ctx.s();
          await s.admin.setGroup(await ctx.actor(), kind, gname, { managers: o.manager, requireApproval: src('requireApproval'), requireReason: src('requireReason'), description: o.description, rename: o.rename });
          ctx.out({ name: o.rename ?? gname, updated: true }, () => `updated ${kind} group ${gname}`);
        }),
      );
    if (kind === 'user') {
      for (const [verb, remove] of [['add-member', false], ['remove-member', true]] as const) {
        g.command(`${verb} <group> <usernames...>`)
          .description(remove ? 'remove users from a group' : 'add users to a group')
          .action(
            action(async (ctx, group: string, users: string[]) => {
              const s = await ctx.s();
              const actor = await ctx.actor();
              for (const u of users) await s.admin.addMember(actor, group, u, remove);
              ctx.out({ group, [remove ? 'removed' : 'added']: users }, () => `${remove ? 'removed' : 'added'} ${users.join(', ')} ${remove ? 'from' : 'to'} ${group}`);
            }),
          );
      }
    }
    g.command('list')
      .description(`list ${kind} groups`)
      .action(
        action(async (ctx) => {
          const p = await (await ctx.s()).policy.current();
          const groups = kind === 'user' ? [...p.userGroupsById.values()] : [...p.deviceGroupsById.values()];
          const rows = groups.map((x) => ({
            id: x.id,
            name: x.name,
            managers: x.managerIds.map((m) => p.userName(m)),
            requireApproval: x.requireApproval,
            requireReason: x.requireReason,
            ...(kind === 'user'
              ? { members: (p.userGroupsById.get(x.id)?.memberIds ?? []).map((m) => p.userName(m)) }
              : { devices: [...p.devicesById.values()].filter((d) => d.groupId === x.id).map((d) => d.name) }),
          }));
          ctx.out(rows, () => table(rows, ['id', 'name', 'managers', 'requireApproval', 'requireReason', kind === 'user' ? 'members' : 'devices']));
        }),
      );
  }

  const device = program.command('device').description('manage devices and their accounts');
  const portOpts = (c: Command) =>
    c
      .option('--port <n>', 'SSH/SFTP port (or the only protocol’s port)', Number)
      .option('--rdp-port <n>', 'RDP port', Number)
      .option('--http-port <n>', 'HTTP port', Number)
      .option('--group <deviceGroup>', 'device group');
  const ports = (o: { rdpPort?: number; httpPort?: number }) => ({ ...(o.rdpPort ? { rdp: o.rdpPort } : {}), ...(o.httpPort ? { http: o.httpPort } : {}) });
  const httpOpts = (c: Command) =>
    c
      .option('--http-scheme <scheme>', 'HTTP apps: http or https to the device')
      .option('--http-tls <mode>', 'HTTP apps over https: verify, off, or sha256:<certificate fingerprint>')
      .option('--http-auth <mode>', 'HTTP apps: inject the account password as basic auth, header:<Name>, or none');
  type HttpFlags = { httpScheme?: string; httpTls?: string; httpAuth?: string };
  const httpOptions = (o: HttpFlags, current: Record<string, unknown> = {}): Record<string, unknown> | undefined => {
    if (o.httpScheme === undefined && o.httpTls === undefined && o.httpAuth === undefined) return undefined;
    if (o.httpScheme !== undefined && !['http', 'https'].includes(o.httpScheme)) throw new GatehouseError('invalid', '--http-scheme must be http or https');
    if (o.httpTls !== undefined && !/^(verify|off|sha256:[0-9a-f:]{64,95})$/i.test(o.httpTls)) throw new GatehouseError('invalid', '--http-tls must be verify, off or sha256:<hex fingerprint>');
    if (o.httpAuth !== undefined && !/^(basic|none|header:[A-Za-z0-9-]{1,64})$/.test(o.httpAuth)) throw new GatehouseError('invalid', '--http-auth must be basic, none or header:<Header-Name>');
    const http = { ...((current.http as Record<string, unknown>) ?? {}) };
    if (o.httpScheme !== undefined) http.scheme = o.httpScheme;
    if (o.httpTls !== undefined) http.tls = o.httpTls;
    if (o.httpAuth !== undefined) http.auth = o.httpAuth;
    return { ...current, http };
  };
  httpOpts(portOpts(device.command('add <name>').description('add a device').requiredOption('--host <host>', 'address or name').requiredOption('--protocols <list>', 'ssh,sftp,rdp,http'))).action(
    action(async (ctx, name: string, o: { host: string; protocols: string; port?: number; rdpPort?: number; httpPort?: number; group?: string } & HttpFlags) => {
      const s = await ctx.s();
      await s.admin.addDevice(await ctx.actor(), { name, host: o.host, protocols: o.protocols, group: o.group, port: o.port, ports: ports(o), options: httpOptions(o) });
      const p = await s.policy.current();
      ctx.out(presentDevice(p, p.devicesByName.get(name)!), () => `added device ${name}`);
    }),
  );
  httpOpts(portOpts(device.command('set <name>').description('change a device').option('--host <host>').option('--protocols <list>')))
    .option('--enable')
    .option('--disable')
    .option('--clear-host-key', 'forget the pinned SSH host key (the next connection pins a new one)')
    .action(
      action(async (ctx, name: string, o: { host?: string; protocols?: string; port?: number; rdpPort?: number; httpPort?: number; group?: string; enable?: boolean; disable?: boolean; clearHostKey?: boolean } & HttpFlags) => {
        const s = await ctx.s();
        const pt = ports(o);
        const stored = await s.deviceOptions.byName(name);
        const options = httpOptions(o, stored !== undefined ? (JSON.parse(stored) as Record<string, unknown>) : {});
        await s.admin.setDevice(await ctx.actor(), name, {
          host: o.host, protocols: o.protocols, group: o.group, port: o.port, ports: Object.keys(pt).length ? pt : undefined,
          enabled: o.enable ? true : o.disable ? false : undefined, hostKey: o.clearHostKey ? null : undefined, options,
        });
        const p = await s.policy.current();
        ctx.out(presentDevice(p, p.devicesByName.get(name)!), () => `updated device ${name}`);
      }),
    );
  device
    .command('list')
    .description('list devices')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = [...p.devicesById.values()].map((d) => presentDevice(p, d));
        ctx.out(rows, () => table(rows.map((r) => ({ ...r, accounts: r.accounts.map((a) => a.name + (a.default ? '*' : '')), ports: Object.entries(r.ports).map(([k, v]) => `${k}:${v}`) })), ['id', 'name', 'host', 'protocols', 'ports', 'group', 'accounts', 'enabled']));
      }),
    );
  device
    .command('account')
    .description('manage accounts on a device')
    .command('add <device> <account>')
    .description('add or replace an account; its secret is sealed in the vault and never shown')
    .option('--key-file <file>', 'private key file')
    .option('--password-stdin', 'read the password from standard input')
    .option('--default', 'make it the device’s default account')
    .action(
      action(async (ctx, dev: string, acct: string, o: { keyFile?: string; passwordStdin?: boolean; default?: boolean }) => {
        if (!!o.keyFile === !!o.passwordStdin) throw new GatehouseError('invalid', 'give exactly one of --key-file or --password-stdin');
        const secret = o.keyFile ? { privateKey: readFile(o.keyFile, 'key') } : { password: await readStdin() };
        const s = await ctx.s();
        const id = await s.admin.addAccount(await ctx.actor(), dev, acct, secret, o.default);
        ctx.out({ id, device: dev, account: acct, secretKind: o.keyFile ? 'key' : 'password' }, () => `set account ${acct} on ${dev} (secret stored in the vault)`);
      }),
    );

  const access = program.command('access').description('access rules: which user group may reach which device group');
  access
    .command('grant <userGroup> <deviceGroup>')
    .description('allow a user group to reach a device group')
    .requiredOption('--protocols <list>', 'ssh,sftp,rdp,http')
    .option('--port-forwarding', 'allow SSH local port forwarding')
    .action(
      action(async (ctx, ug: string, dg: string, o: { protocols: string; portForwarding?: boolean }) => {
        const s = await ctx.s();
        await s.admin.grantAccess(await ctx.actor(), ug, dg, o.protocols, !!o.portForwarding);
        ctx.out({ userGroup: ug, deviceGroup: dg, protocols: o.protocols.split(','), portForwarding: !!o.portForwarding }, () => `granted ${ug} -> ${dg} (${o.protocols})`);
      }),
    );
  access
    .command('revoke <userGroup> <deviceGroup>')
    .description('remove an access rule')
    .action(
      action(async (ctx, ug: string, dg: string) => {
        const s = await ctx.s();
        const ok = await s.admin.revokeAccess(await ctx.actor(), ug, dg);
        if (!ok) throw new GatehouseError('not_found', `no access rule from ${ug} to ${dg}`);
        ctx.out({ userGroup: ug, deviceGroup: dg, removed: true }, () => `removed ${ug} -> ${dg}`);
      }),
    );
  access
    .command('list')
    .description('list access rules')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = p.data.accessRules.map((r) => ({
          userGroup: p.userGroupsById.get(r.userGroupId)?.name,
          deviceGroup: p.deviceGroupsById.get(r.deviceGroupId)?.name,
          protocols: r.protocols,
          portForwarding: r.allowPortForwarding,
        }));
        ctx.out(rows, () => table(rows, ['userGroup', 'deviceGroup', 'protocols', 'portForwarding']));
      }),
    );

  const wf = program.command('workflow').description('approval workflows: ordered levels for one user group x device group');
  wf.command('add <name>')
    .description('add a workflow')
    .requiredOption('--user-group <group>')
    .requiredOption('--device-group <group>')
    .requiredOption('--level <spec>', 'group-manager | line-manager | group-members:<g> | users:<a>,<b>, then ,quorum=N,escalate=MIN (repeat in order)', collect)
    .action(
      action(async (ctx, name: string, o: { userGroup: string; deviceGroup: string; level: string[] }) => {
        const s = await ctx.s();
        const id = await s.admin.addWorkflow(await ctx.actor(), name, o.userGroup, o.deviceGroup, o.level);
        const w = (await s.policy.current()).data.workflows.find((x) => x.id === id)!;
        ctx.out({ id, name, userGroup: o.userGroup, deviceGroup: o.deviceGroup, levels: w.levels }, () => `added workflow ${name} with ${o.level.length} level(s)`);
      }),
    );
  wf.command('list')
    .description('list workflows')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = p.data.workflows.map((w) => ({
          id: w.id, name: w.name, userGroup: p.userGroupsById.get(w.userGroupId)?.name, deviceGroup: p.deviceGroupsById.get(w.deviceGroupId)?.name,
          levels: w.levels.map((l) => `${l.authority.kind}${'group' in l.authority ? ':' + l.authority.group : 'users' in l.authority ? ':' + l.authority.users.join('+') : ''} q=${l.quorum}${l.escalateAfterMinutes ? ' esc=' + l.escalateAfterMinutes + 'm' : ''}`),
        }));
        ctx.out(rows, () => table(rows, ['id', 'name', 'userGroup', 'deviceGroup', 'levels']));
      }),
    );
  wf.command('remove <name>')
    .description('remove a workflow')
    .action(
      action(async (ctx, name: string) => {
        const s = await ctx.s();
        await s.admin.removeWorkflow(await ctx.actor(), name);
        ctx.out({ name, removed: true }, () => `removed workflow ${name}`);
      }),
    );
}
