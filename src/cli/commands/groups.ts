// gatehouse group|device-group add|set|list, and group add-member|remove-member.
import type { Command } from 'commander';
import { personById, personName } from '../../presenters/people.js';
import { action, collect, table } from '../context.js';

type Kind = 'user' | 'device';

export function registerGroups(program: Command): void {
  for (const kind of ['user', 'device'] as const) {
    const name = kind === 'user' ? 'group' : 'device-group';
    const g = program.command(name).description(kind === 'user' ? 'manage user groups' : 'manage device groups');
    groupAdd(g, kind);
    groupSet(g, kind);
    if (kind === 'user') groupMembers(g);
    groupList(g, kind);
  }
}

const common = (c: Command) =>
  c
    .option('--manager <username>', 'a group manager (repeatable)', collect)
    .option('--require-approval', 'Required Managerial Approval (from the group manager)')
    .option('--require-reason', 'require users to enter a reason for connection')
    .option('--description <text>');

function groupAdd(g: Command, kind: Kind): void {
  common(g.command('add <name>').description(`add a ${kind} group`)).action(
    action(
      async (ctx, gname: string, o: { manager?: string[]; requireApproval?: boolean; requireReason?: boolean; description?: string }) => {
        const s = await ctx.s();
        const id = await s.admin.addGroup(await ctx.actor(), kind, gname, {
          managers: o.manager,
          requireApproval: o.requireApproval,
          requireReason: o.requireReason,
          description: o.description,
        });
        const warnings = kind === 'user' ? await s.admin.userGroupWarnings(gname) : [];
        const p = await s.policy.current();
        const managers = (o.manager ?? []).map((u) => personName(p.usersByName.get(u) ?? { username: u }));
        ctx.out(
          { id, name: gname, managers: o.manager ?? [], requireApproval: !!o.requireApproval, requireReason: !!o.requireReason, warnings },
          () =>
            [
              `added ${kind} group ${gname} (#${id})${managers.length ? `, managed by ${managers.join(', ')}` : ''}`,
              ...warnings.map((w) => `warning: ${w}`),
            ].join('\n'),
        );
      },
    ),
  );
}

function groupSet(g: Command, kind: Kind): void {
  common(g.command('set <name>').description(`change a ${kind} group (--manager replaces the managers)`))
    .option('--no-require-approval', 'no managerial approval')
    .option('--no-require-reason', 'no reason needed')
    .option('--rename <new>', 'rename the group')
    .action(
      action(
        async (
          ctx,
          gname: string,
          o: { manager?: string[]; requireApproval?: boolean; requireReason?: boolean; description?: string; rename?: string },
          cmd: Command,
        ) => {
          const src = (k: string) =>
            (cmd.getOptionValueSource(k) === 'cli' ? (o as Record<string, unknown>)[k] : undefined) as boolean | undefined;
          const s = await ctx.s();
          await s.admin.setGroup(await ctx.actor(), kind, gname, {
            managers: o.manager,
            requireApproval: src('requireApproval'),
            requireReason: src('requireReason'),
            description: o.description,
            rename: o.rename,
          });
          const warnings = kind === 'user' ? await s.admin.userGroupWarnings(o.rename ?? gname) : [];
          ctx.out({ name: o.rename ?? gname, updated: true, warnings }, () =>
            [`updated ${kind} group ${gname}`, ...warnings.map((w) => `warning: ${w}`)].join('\n'),
          );
        },
      ),
    );
}

function groupMembers(g: Command): void {
  for (const [verb, remove] of [
    ['add-member', false],
    ['remove-member', true],
  ] as const) {
    g.command(`${verb} <group> <usernames...>`)
      .description(remove ? 'remove users from a group' : 'add users to a group')
      .action(
        action(async (ctx, group: string, users: string[]) => {
          const s = await ctx.s();
          await s.admin.addMembers(await ctx.actor(), group, users, remove);
          const p = await s.policy.current();
          const shown = users.map((u) => personName(p.usersByName.get(u) ?? { username: u }));
          ctx.out(
            { group, [remove ? 'removed' : 'added']: users },
            () => `${remove ? 'removed' : 'added'} ${shown.join(', ')} ${remove ? 'from' : 'to'} ${group}`,
          );
        }),
      );
  }
}

function groupList(g: Command, kind: Kind): void {
  g.command('list')
    .description(`list ${kind} groups`)
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const groups = kind === 'user' ? [...p.userGroupsById.values()] : [...p.deviceGroupsById.values()];
        // --json keeps usernames (what other commands take); the table shows people as every view does.
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
        const people = (ids: readonly number[]) => ids.map((m) => personById(p, m)).join(', ') || '-';
        const shown = groups.map((x, i) => ({
          ...rows[i],
          managers: people(x.managerIds),
          ...(kind === 'user' ? { members: people(p.userGroupsById.get(x.id)?.memberIds ?? []) } : {}),
        }));
        ctx.out(rows, () =>
          table(shown, ['id', 'name', 'managers', 'requireApproval', 'requireReason', kind === 'user' ? 'members' : 'devices']),
        );
      }),
    );
}
