// gatehouse directory set|show|sync — the LDAP / Active Directory source of users, groups and managers.
// The TOTP commands (user totp, group second-factor) are in totp.ts.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import type { DirectorySettings } from '../../directory/config.js';
import type { SyncSummary } from '../../directory/diff.js';
import type { DirectoryParts } from '../../directory/index.js';
import type { Services } from '../../services-core.js';
import { action, readStdin } from '../context.js';
import { registerTotp } from './totp.js';

/** The directory parts, loaded when a command uses them (ldapts, otplib and qrcode are not cheap). */
async function directoryOf(s: Services): Promise<DirectoryParts> {
  return (await import('../../directory/index.js')).directoryOf(s);
}

interface SetOpts {
  url?: string;
  startTls?: boolean;
  caFile?: string;
  bindDn?: string;
  bindPasswordStdin?: boolean;
  userBase?: string;
  userFilter?: string;
  groupBase?: string;
  groupFilter?: string;
  membership?: string;
  inChain?: boolean;
  interval?: string;
  timeout?: string;
  attrUsername?: string;
  attrEmail?: string;
  attrDisplayName?: string;
  attrManager?: string;
  attrMember?: string;
  attrMemberOf?: string;
  attrGroupName?: string;
  attrGroupOwner?: string;
}

function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new GatehouseError('invalid', `${what} must be a whole number`, what);
  return Number(v);
}

export function summaryText(s: SyncSummary, dryRun: boolean): string {
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : '-');
  const lines = [
    dryRun ? 'Dry run: nothing was changed. A sync would do this:' : 'Directory sync:',
    `  users added:    ${list(s.users.added)}`,
    `  users changed:  ${list(s.users.changed.map((c) => `${c.username} (${c.fields.join(', ')})`))}`,
    `  users disabled: ${list(s.users.disabled)}`,
    `  users enabled:  ${list(s.users.enabled)}`,
    `  groups added:   ${list(s.groups.added)}`,
    `  groups changed: ${list(s.groups.changed.map((g) => `${g.name} (+${g.membersAdded.length} -${g.membersRemoved.length}${g.managers ? ', managers' : ''})`))}`,
    `  groups emptied: ${list(s.groups.emptied)}`,
  ];
  for (const c of s.conflicts) lines.push(`  conflict: ${c.kind} '${c.name}' (${c.dn}): ${c.why}`);
  for (const k of s.skipped) lines.push(`  skipped: ${k.dn}: ${k.why}`);
  return lines.join('\n');
}

export function registerDirectorySync(program: Command): void {
  const dir = program.command('directory').description('LDAP / Active Directory: users, groups and line managers from the directory');
  directorySet(dir);
  directoryShow(dir);
  directorySyncNow(dir);
  registerTotp(program);
}

function setOptions(c: Command): Command {
  return c
    .option('--url <url>', 'ldap://host:389 or ldaps://host:636')
    .option('--start-tls', 'upgrade ldap:// with StartTLS')
    .option('--no-start-tls', 'no StartTLS')
    .option('--ca-file <pem>', 'CA certificate file for ldaps/StartTLS')
    .option('--bind-dn <dn>', 'service account DN')
    .option('--bind-password-stdin', 'read the service account password from standard input (kept in the vault)')
    .option('--user-base <dn>', 'where users live')
    .option('--user-filter <filter>', 'which entries are users (default (objectClass=inetOrgPerson))')
    .option('--group-base <dn>', 'where groups live')
    .option('--group-filter <filter>', 'which entries are groups (default groupOfNames or group)')
    .option('--membership <kind>', "'member' (on groups) or 'memberOf' (on users)")
    .option('--in-chain', 'AD: resolve nested groups on the server (LDAP_MATCHING_RULE_IN_CHAIN)')
    .option('--no-in-chain', 'resolve nested groups here')
    .option('--interval <minutes>', 'minutes between scheduled syncs (0 = on demand only)')
    .option('--timeout <seconds>', 'seconds to wait for the server')
    .option('--attr-username <a>', 'login name attribute (uid, sAMAccountName)')
    .option('--attr-email <a>', 'email attribute (mail)')
    .option('--attr-display-name <a>', 'display name attribute (cn, displayName)')
    .option('--attr-manager <a>', 'line manager DN attribute (manager)')
    .option('--attr-member <a>', 'group member attribute (member)')
    .option('--attr-member-of <a>', 'user memberOf attribute (memberOf)')
    .option('--attr-group-name <a>', 'group name attribute (cn)')
    .option('--attr-group-owner <a>', 'group owner DN attribute, made group manager (owner, managedBy)');
}

/** The settings the flags name; flags not given are left out, so they keep their value. */
function settingsPatch(o: SetOpts): Partial<DirectorySettings> {
  const attributes = Object.fromEntries(
    (
      [
        ['username', o.attrUsername],
        ['email', o.attrEmail],
        ['displayName', o.attrDisplayName],
        ['manager', o.attrManager],
        ['member', o.attrMember],
        ['memberOf', o.attrMemberOf],
        ['groupName', o.attrGroupName],
        ['groupOwner', o.attrGroupOwner],
      ] as const
    ).filter(([, v]) => v !== undefined),
  );
  const patch: Partial<DirectorySettings> = {
    url: o.url,
    startTls: o.startTls,
    caFile: o.caFile,
    bindDn: o.bindDn,
    userBase: o.userBase,
    userFilter: o.userFilter,
    groupBase: o.groupBase,
    groupFilter: o.groupFilter,
    membership: o.membership as DirectorySettings['membership'] | undefined,
    inChain: o.inChain,
    intervalMinutes: int(o.interval, 'interval'),
    timeoutSeconds: int(o.timeout, 'timeout'),
  };
  for (const k of Object.keys(patch) as (keyof typeof patch)[]) if (patch[k] === undefined) delete patch[k];
  return { ...patch, attributes: attributes as DirectorySettings['attributes'] };
}

function directorySet(dir: Command): void {
  setOptions(dir.command('set').description('configure the directory (flags not given keep their value)')).action(
    action(async (ctx, o: SetOpts) => {
      const password = o.bindPasswordStdin ? await readStdin() : undefined;
      const patch = settingsPatch(o);
      const s = await ctx.s();
      const v = await (await directoryOf(s)).directory.configure(await ctx.actor(), patch, password);
      ctx.out(
        v,
        () =>
          `directory set: ${v.settings.url} (bind ${v.settings.bindDn}${v.bindPasswordSet ? ', password in the vault' : ', NO password yet'})`,
      );
    }),
  );
}

function directoryShow(dir: Command): void {
  dir
    .command('show')
    .description('the directory settings (never the password) and the last sync')
    .action(
      action(async (ctx) => {
        const s = await ctx.s();
        const v = await (await directoryOf(s)).directory.view();
        if (!v) throw new GatehouseError('not_found', 'no directory is configured: run gatehouse directory set');
        ctx.out(v, () =>
          [
            ...Object.entries(v.settings).map(
              ([k, val]) => `${k.padEnd(16)} ${typeof val === 'object' && val !== null ? JSON.stringify(val) : String(val)}`,
            ),
            `${'bindPassword'.padEnd(16)} ${v.bindPasswordSet ? '(set, in the vault)' : '(not set)'}`,
            `${'lastSync'.padEnd(16)} ${v.lastSyncAt ? new Date(v.lastSyncAt).toISOString() : 'never'}`,
            ...(v.lastSummary ? [summaryText(v.lastSummary, false)] : []),
          ].join('\n'),
        );
      }),
    );
}

function directorySyncNow(dir: Command): void {
  dir
    .command('sync')
    .description('read the directory now and bring users, managers and groups in line')
    .option('--dry-run', 'only say what would change')
    .action(
      action(async (ctx, o: { dryRun?: boolean }) => {
        const s = await ctx.s();
        const r = await (await directoryOf(s)).directory.sync(await ctx.actor(), { dryRun: !!o.dryRun });
        ctx.out(r, () => summaryText(r.summary, r.dryRun));
      }),
    );
}
