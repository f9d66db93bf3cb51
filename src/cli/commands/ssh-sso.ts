// gatehouse group ssh-login <group> key-or-password|sso|default: a user group's own SSH login method
// (ssh.login.method); `default` removes it, so the parameter applies to the group's members.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import { SSH_LOGIN_METHODS, type SshLoginMethod } from '../../core/ssh-sso.js';
import { action } from '../context.js';

export function registerSshSso(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'group') ?? program.command('group');
  group
    .command('ssh-login <group> <method>')
    .description(
      "how the group's members log in over SSH: key-or-password, sso (a console link) or default (the parameter ssh.login.method)",
    )
    .action(
      action(async (ctx, name: string, raw: string) => {
        const method = raw === 'default' ? null : (raw as SshLoginMethod);
        if (method !== null && !SSH_LOGIN_METHODS.includes(method))
          throw new GatehouseError('invalid', "say 'key-or-password', 'sso' or 'default'", 'method');
        const s = await ctx.s();
        const g = (await s.policy.current()).userGroupsByName.get(name);
        if (!g) throw new GatehouseError('not_found', `unknown user group '${name}'`);
        const actor = await ctx.actor();
        await s.sshSso.setGroupMethod(g.id, method);
        await s.audit({
          actor: actor.username,
          actorId: actor.id,
          channel: 'cli',
          action: 'user-group.ssh-login-method',
          targetType: 'user-group',
          targetId: g.id,
          details: { group: name, method },
        });
        ctx.out({ group: name, sshLoginMethod: method }, () => `group ${name}: SSH login ${method ?? 'as ssh.login.method says'}`);
      }),
    );
}
