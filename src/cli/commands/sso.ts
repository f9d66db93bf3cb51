// gatehouse sso set|show|test|off — OpenID Connect login for the console — and gatehouse user sign-out
// (the leaver: every console session and API token of a user ends at once).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import type { Services } from '../../services-core.js';
import type { SsoService } from '../../sso/service.js';
import type { SsoPatch } from '../../sso/service.js';
import { action, readInputFile, readStdin } from '../context.js';

/** Loaded when a command uses it: openid-client is not needed by the other commands. */
async function ssoOf(s: Services): Promise<SsoService> {
  return (await import('../../sso/index.js')).ssoOf(s);
}

interface SetOpts {
  issuer?: string;
  clientId?: string;
  clientSecretStdin?: boolean;
  name?: string;
  usernameClaim?: string;
  usernameDomain?: string;
  groupsClaim?: string;
  managerClaim?: string;
  scopes?: string;
  caFile?: string;
  createUsers?: boolean;
  syncGroups?: boolean;
  timeout?: string;
}

/** '' or 'none' clears an optional claim. */
const optional = (v: string | undefined) => (v === undefined ? undefined : v === '' || v === 'none' ? null : v);

function patchOf(o: SetOpts): SsoPatch {
  if (o.timeout !== undefined && !/^\d+$/.test(o.timeout))
    throw new GatehouseError('invalid', '--timeout must be a whole number of seconds', 'timeout');
  let caFile: string | null | undefined = optional(o.caFile);
  if (caFile) {
    caFile = resolve(caFile);
    readInputFile(caFile, 'CA');
  }
  const patch: SsoPatch = {
    issuer: o.issuer,
    clientId: o.clientId,
    name: o.name,
    usernameClaim: o.usernameClaim,
    usernameDomain: optional(o.usernameDomain),
    groupsClaim: optional(o.groupsClaim),
    managerClaim: optional(o.managerClaim),
    scopes: o.scopes,
    caFile,
    createUsers: o.createUsers,
    syncGroups: o.syncGroups,
    timeoutSeconds: o.timeout !== undefined ? Number(o.timeout) : undefined,
  };
  for (const k of Object.keys(patch) as (keyof SsoPatch)[]) if (patch[k] === undefined) delete patch[k];
  return patch;
}

function ssoSet(sso: Command): void {
  sso
    .command('set')
    .description('configure OpenID Connect login and turn it on (flags not given keep their value)')
    .option('--issuer <url>', 'the provider issuer URL (https://…; its /.well-known/openid-configuration is read)')
    .option('--client-id <id>', 'the client (application) ID registered at the provider')
    .option('--client-secret-stdin', 'read the client secret from standard input (kept in the vault, never shown)')
    .option('--name <text>', 'the login button says "Sign in with <name>"')
    .option('--username-claim <claim>', 'the claim that names the Gatehouse user (preferred_username)')
    .option('--username-domain <domain>', "accept name@<domain> as 'name' ('none' to clear)")
    .option('--groups-claim <claim>', "the claim that lists groups (groups; 'none' to clear)")
    .option('--manager-claim <claim>', "a claim holding the line manager's username ('none' to clear)")
    .option('--scopes <list>', 'space-separated scopes (openid profile email)')
    .option('--ca-file <pem>', "CA certificate file for the provider's TLS ('none' to clear)")
    .option('--create-users', 'create a local user on their first login')
    .option('--no-create-users', 'only users that exist here may sign in')
    .option('--sync-groups', 'user group memberships from the groups claim (groups of the same name)')
    .option('--no-sync-groups', 'leave group memberships alone')
    .option('--timeout <seconds>', 'seconds to wait for the provider (10)')
    .action(
      action(async (ctx, o: SetOpts) => {
        const secret = o.clientSecretStdin ? await readStdin() : undefined;
        const patch = patchOf(o);
        const v = await (await ssoOf(await ctx.s())).configure(await ctx.actor(), patch, secret);
        ctx.out(
          v,
          () => `single sign-on on: ${v.settings.name} at ${v.settings.issuer}\nredirect URI to register at the provider: ${v.redirectUri}`,
        );
      }),
    );
}

function ssoShow(sso: Command): void {
  sso
    .command('show')
    .description('the single sign-on settings (never the client secret)')
    .action(
      action(async (ctx) => {
        const v = await (await ssoOf(await ctx.s())).view();
        if (!v) throw new GatehouseError('not_found', 'single sign-on is not configured: run gatehouse sso set');
        ctx.out(v, () =>
          [
            `${'enabled'.padEnd(15)} ${v.enabled ? 'yes' : 'no (gatehouse sso set turns it on)'}`,
            ...Object.entries(v.settings).map(([k, val]) => `${k.padEnd(15)} ${val === null ? '-' : String(val)}`),
            `${'clientSecret'.padEnd(15)} ${v.clientSecretSet ? '(set, in the vault)' : '(not set)'}`,
            `${'redirectUri'.padEnd(15)} ${v.redirectUri}`,
          ].join('\n'),
        );
      }),
    );
}

function ssoTest(sso: Command): void {
  sso
    .command('test')
    .description("dry run: read the provider's discovery document and build a login URL (nobody signs in)")
    .action(
      action(async (ctx) => {
        const r = await (await ssoOf(await ctx.s())).test();
        ctx.out(r, () =>
          [
            `ok: ${r.issuer}`,
            `authorization endpoint ${r.authorizationEndpoint}`,
            `token endpoint         ${r.tokenEndpoint}`,
            `redirect URI           ${r.redirectUri}`,
          ].join('\n'),
        );
      }),
    );
}

function ssoOff(sso: Command): void {
  sso
    .command('off')
    .description('turn single sign-on off (settings and secret are kept; sso set turns it on again)')
    .action(
      action(async (ctx) => {
        const changed = await (await ssoOf(await ctx.s())).off(await ctx.actor());
        ctx.out({ ok: changed }, () => (changed ? 'single sign-on off' : 'single sign-on was not configured'));
      }),
    );
}

function userSignOut(program: Command): void {
  const user = program.commands.find((c) => c.name() === 'user') ?? program.command('user');
  user
    .command('sign-out <username>')
    .description('the leaver: end every console session and revoke every API token of the user')
    .action(
      action(async (ctx, username: string) => {
        const r = await (await ssoOf(await ctx.s())).signOut(await ctx.actor(), username);
        ctx.out(r, () => `${username}: ${r.sessions} console session(s) ended, ${r.tokens} API token(s) revoked`);
      }),
    );
}

export function registerSso(program: Command): void {
  const sso = program.command('sso').description('single sign-on (OpenID Connect) for the console');
  ssoSet(sso);
  ssoShow(sso);
  ssoTest(sso);
  ssoOff(sso);
  userSignOut(program);
}
