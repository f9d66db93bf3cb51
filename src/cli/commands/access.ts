// gatehouse access grant|revoke|list and workflow add|list|remove: who may reach what, and who approves.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import { workflowWarnings } from '../../core/admin/workflows.js';
import { action, collect, table } from '../context.js';

export function registerAccess(program: Command): void {
  const access = program.command('access').description('access rules: which user group may reach which device group');
  access
    .command('grant <userGroup> <deviceGroup>')
    .description('allow a user group to reach a device group')
    .requiredOption('--protocols <list>', 'ssh,sftp,rdp,http,postgres,mysql')
    .option('--port-forwarding', 'allow SSH local port forwarding')
    .action(
      action(async (ctx, ug: string, dg: string, o: { protocols: string; portForwarding?: boolean }) => {
        const s = await ctx.s();
        await s.admin.grantAccess(await ctx.actor(), ug, dg, o.protocols, !!o.portForwarding);
        ctx.out(
          { userGroup: ug, deviceGroup: dg, protocols: o.protocols.split(','), portForwarding: !!o.portForwarding },
          () => `granted ${ug} -> ${dg} (${o.protocols})`,
        );
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
}

export function registerWorkflows(program: Command): void {
  const wf = program.command('workflow').description('approval workflows: ordered levels for one user group x device group');
  wf.command('add <name>')
    .description('add a workflow')
    .requiredOption('--user-group <group>')
    .requiredOption('--device-group <group>')
    .requiredOption(
      '--level <spec>',
      'group-manager | line-manager | group-members:<g> | users:<a>,<b>, then ,quorum=N,escalate=MIN (repeat in order)',
      collect,
    )
    .action(
      action(async (ctx, name: string, o: { userGroup: string; deviceGroup: string; level: string[] }) => {
        const s = await ctx.s();
        const id = await s.admin.addWorkflow(await ctx.actor(), name, o.userGroup, o.deviceGroup, o.level);
        const p = await s.policy.current();
        const w = p.data.workflows.find((x) => x.id === id)!;
        const warnings = workflowWarnings(p, w);
        ctx.out({ id, name, userGroup: o.userGroup, deviceGroup: o.deviceGroup, levels: w.levels, warnings }, () =>
          [`added workflow ${name} with ${o.level.length} level(s)`, ...warnings.map((x) => `warning: ${x.message}`)].join('\n'),
        );
      }),
    );
  wf.command('list')
    .description('list workflows')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = p.data.workflows.map((w) => ({
          id: w.id,
          name: w.name,
          userGroup: p.userGroupsById.get(w.userGroupId)?.name,
          deviceGroup: p.deviceGroupsById.get(w.deviceGroupId)?.name,
          levels: w.levels.map(
            (l) =>
              `${l.authority.kind}${'group' in l.authority ? ':' + l.authority.group : 'users' in l.authority ? ':' + l.authority.users.join('+') : ''} q=${l.quorum}${l.escalateAfterMinutes ? ' esc=' + l.escalateAfterMinutes + 'm' : ''}`,
          ),
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
