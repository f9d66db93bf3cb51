// gatehouse user totp enroll|confirm|disable|status|approvers and group second-factor: the TOTP second factor.
// The commands sit under the existing `user` and `group` commands when they exist.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import type { DirectoryParts } from '../../directory/index.js';
import type { Services } from '../../services-core.js';
import { action } from '../context.js';

/** The directory parts, loaded when a command uses them (ldapts, otplib and qrcode are not cheap). */
async function directoryOf(s: Services): Promise<DirectoryParts> {
  return (await import('../../directory/index.js')).directoryOf(s);
}

export function registerTotp(program: Command): void {
  const user = program.commands.find((c) => c.name() === 'user') ?? program.command('user');
  const totp = user.command('totp').description('the TOTP second factor of a user');
  totpEnrol(totp);
  totpManage(totp);
  groupSecondFactor(program);
}

function totpEnrol(totp: Command): void {
  totp
    .command('enroll <username>')
    .description('start enrolment: prints the otpauth URL (and QR code as SVG with --svg); confirm with `user totp confirm`')
    .option('--svg <file>', 'also write the QR code as an SVG file')
    .action(
      action(async (ctx, username: string, o: { svg?: string }) => {
        const s = await ctx.s();
        const u = (await s.policy.current()).usersByName.get(username);
        if (!u) throw new GatehouseError('not_found', `unknown user '${username}'`);
        if (await (await directoryOf(s)).totp.enrolled(u.id))
          throw new GatehouseError('conflict', `${username} already has a second factor: gatehouse user totp disable ${username} first`);
        const e = await (await directoryOf(s)).totp.begin(u);
        if (o.svg) (await import('node:fs')).writeFileSync(o.svg, e.qrSvg, { mode: 0o600 });
        await s.audit({
          actor: (await ctx.actor()).username,
          channel: 'cli',
          action: 'totp.enrol-started',
          targetType: 'user',
          targetId: u.id,
          details: { username },
        });
        ctx.out(
          { username, otpauthUrl: e.otpauthUrl, secret: e.secret },
          () =>
            `scan or type into the authenticator app (shown once):\n  ${e.otpauthUrl}\nthen: gatehouse user totp confirm ${username} <code>`,
        );
      }),
    );
  totp
    .command('confirm <username> <code>')
    .description('finish enrolment with a code from the app; prints the recovery codes once')
    .action(
      action(async (ctx, username: string, code: string) => {
        const s = await ctx.s();
        const u = (await s.policy.current()).usersByName.get(username);
        if (!u) throw new GatehouseError('not_found', `unknown user '${username}'`);
        const codes = await (await directoryOf(s)).totp.confirm(u, code);
        if (!codes)
          throw new GatehouseError('invalid', 'wrong code (or no enrolment started): check the app and the clock, then try again', 'code');
        await s.audit({
          actor: (await ctx.actor()).username,
          channel: 'cli',
          action: 'totp.enrolled',
          targetType: 'user',
          targetId: u.id,
          details: { username },
        });
        ctx.out(
          { username, recoveryCodes: codes },
          () => `second factor on for ${username}. Recovery codes (each works once; shown once):\n  ${codes.join('\n  ')}`,
        );
      }),
    );
}

function totpManage(totp: Command): void {
  totp
    .command('disable <username>')
    .description("remove a user's TOTP secret and recovery codes (they enrol again if a group requires it)")
    .action(
      action(async (ctx, username: string) => {
        const s = await ctx.s();
        const u = (await s.policy.current()).usersByName.get(username);
        if (!u) throw new GatehouseError('not_found', `unknown user '${username}'`);
        const removed = await (await directoryOf(s)).totp.disable(u.id);
        await s.audit({
          actor: (await ctx.actor()).username,
          channel: 'cli',
          action: 'totp.disabled',
          targetType: 'user',
          targetId: u.id,
          details: { username, removed },
        });
        ctx.out({ username, removed }, () => (removed ? `second factor removed for ${username}` : `${username} had no second factor`));
      }),
    );
  totp
    .command('status <username>')
    .description('enrolled? required by a group? recovery codes left')
    .action(
      action(async (ctx, username: string) => {
        const s = await ctx.s();
        const u = (await s.policy.current()).usersByName.get(username);
        if (!u) throw new GatehouseError('not_found', `unknown user '${username}'`);
        const t = (await directoryOf(s)).totp;
        const r = {
          username,
          enrolled: await t.enrolled(u.id),
          requiredByGroup: await t.requiredByGroup(u),
          recoveryCodesLeft: await t.recoveryLeft(u.id),
        };
        ctx.out(
          r,
          () =>
            `${username}: ${r.enrolled ? 'enrolled' : 'not enrolled'}; ${r.requiredByGroup ? 'required by a group' : 'not required by a group'}; ${r.recoveryCodesLeft} recovery codes left`,
        );
      }),
    );

  totp
    .command('approvers <onOff>')
    .description('require the second factor of everyone who may approve (admins, managers, workflow approvers): on|off')
    .action(
      action(async (ctx, onOff: string) => {
        if (onOff !== 'on' && onOff !== 'off') throw new GatehouseError('invalid', "say 'on' or 'off'", 'onOff');
        const s = await ctx.s();
        const actor = await ctx.actor();
        await (await directoryOf(s)).directory.store.setApproversNeedSecondFactor(onOff === 'on');
        await s.audit({
          actor: actor.username,
          actorId: actor.id,
          channel: 'cli',
          action: 'second-factor.approvers',
          details: { required: onOff === 'on' },
        });
        ctx.out(
          { approversNeedSecondFactor: onOff === 'on' },
          () => `approvers: second factor ${onOff === 'on' ? 'required' : 'not required'}`,
        );
      }),
    );
}

function groupSecondFactor(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'group') ?? program.command('group');
  group
    .command('second-factor <group> <onOff>')
    .description("require the TOTP second factor of the group's members (on|off)")
    .action(
      action(async (ctx, name: string, onOff: string) => {
        if (onOff !== 'on' && onOff !== 'off') throw new GatehouseError('invalid', "say 'on' or 'off'", 'onOff');
        const s = await ctx.s();
        const g = (await s.policy.current()).userGroupsByName.get(name);
        if (!g) throw new GatehouseError('not_found', `unknown user group '${name}'`);
        const actor = await ctx.actor();
        await (await directoryOf(s)).directory.store.setSecondFactorGroup(g.id, onOff === 'on', s.clock.now());
        await s.audit({
          actor: actor.username,
          actorId: actor.id,
          channel: 'cli',
          action: 'user-group.second-factor',
          targetType: 'user-group',
          targetId: g.id,
          details: { group: name, required: onOff === 'on' },
        });
        ctx.out(
          { group: name, secondFactorRequired: onOff === 'on' },
          () => `group ${name}: second factor ${onOff === 'on' ? 'required' : 'not required'}`,
        );
      }),
    );
}
