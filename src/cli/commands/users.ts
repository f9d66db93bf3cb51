// gatehouse user add|set|list: people, their keys, managers and administrator rights.
import type { Command } from 'commander';
import { personById, presentUser } from '../../presenters/index.js';
import { action, collect, readInputFile, readStdin, table } from '../context.js';

export function registerUsers(program: Command): void {
  const user = program.command('user').description('manage users');
  userAdd(user);
  userSet(user);
  userList(user);
}

function userAdd(user: Command): void {
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
      action(
        async (
          ctx,
          username: string,
          o: { displayName?: string; email?: string; passwordStdin?: boolean; sshKey?: string[]; manager?: string; admin?: boolean },
        ) => {
          const password = o.passwordStdin ? await readStdin() : undefined;
          const sshKeys = (o.sshKey ?? []).map((f) => readInputFile(f, 'SSH key'));
          const s = await ctx.s();
          const id = await s.admin.addUser(await ctx.actor(), {
            username,
            displayName: o.displayName,
            email: o.email,
            password,
            sshKeys,
            manager: o.manager,
            admin: o.admin,
          });
          const p = await s.policy.current();
          ctx.out(presentUser(p, p.usersById.get(id)!), () => `added user ${username} (#${id})`);
        },
      ),
    );
}

function userSet(user: Command): void {
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
      action(
        async (
          ctx,
          username: string,
          o: {
            displayName?: string;
            email?: string;
            passwordStdin?: boolean;
            sshKey?: string[];
            manager?: string;
            admin?: boolean;
            disable?: boolean;
            enable?: boolean;
          },
        ) => {
          const password = o.passwordStdin ? await readStdin() : undefined;
          const s = await ctx.s();
          await s.admin.setUser(await ctx.actor(), username, {
            displayName: o.displayName,
            email: o.email,
            password,
            addSshKeys: (o.sshKey ?? []).map((f) => readInputFile(f, 'SSH key')),
            manager: o.manager,
            admin: o.admin,
            disabled: o.disable ? true : o.enable ? false : undefined,
          });
          const p = await s.policy.current();
          ctx.out(presentUser(p, p.usersByName.get(username)!), () => `updated user ${username}`);
        },
      ),
    );
}

function userList(user: Command): void {
  user
    .command('list')
    .description('list users')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = [...p.usersById.values()].map((u) => presentUser(p, u));
        // The manager as every view shows a person; --json keeps the username, which other commands take.
        const shown = [...p.usersById.values()].map((u, i) => ({
          ...rows[i],
          manager: u.managerId === null ? null : personById(p, u.managerId),
        }));
        ctx.out(rows, () => table(shown, ['id', 'username', 'displayName', 'email', 'manager', 'admin', 'disabled', 'source', 'groups']));
      }),
    );
}
