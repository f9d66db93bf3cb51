// gatehouse user|group|device-group|device|access|workflow — the policy directory.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import { presentDevice } from '../../presenters/index.js';
import { action, readInputFile, readStdin, table } from '../context.js';
import { registerAccess, registerWorkflows } from './access.js';
import { registerGroups } from './groups.js';
import { registerUsers } from './users.js';

export function registerDirectory(program: Command): void {
  registerUsers(program);
  registerGroups(program);
  registerDevices(program);
  registerAccess(program);
  registerWorkflows(program);
}

function registerDevices(program: Command): void {
  const device = program.command('device').description('manage devices and their accounts');
  deviceAdd(device);
  deviceSet(device);
  deviceList(device);
  deviceAccount(device);
}

const portOpts = (c: Command) =>
  c
    .option('--port <n>', 'SSH/SFTP port (or the only protocol’s port)', Number)
    .option('--rdp-port <n>', 'RDP port', Number)
    .option('--http-port <n>', 'HTTP port', Number)
    .option('--postgres-port <n>', 'PostgreSQL port', Number)
    .option('--mysql-port <n>', 'MySQL/MariaDB port', Number)
    .option('--group <deviceGroup>', 'device group');
type PortFlags = { rdpPort?: number; httpPort?: number; postgresPort?: number; mysqlPort?: number };
const ports = (o: PortFlags) => ({
  ...(o.rdpPort ? { rdp: o.rdpPort } : {}),
  ...(o.httpPort ? { http: o.httpPort } : {}),
  ...(o.postgresPort ? { postgres: o.postgresPort } : {}),
  ...(o.mysqlPort ? { mysql: o.mysqlPort } : {}),
});
const httpOpts = (c: Command) =>
  c
    .option('--http-scheme <scheme>', 'HTTP apps: http or https to the device')
    .option('--http-tls <mode>', 'HTTP apps over https: verify, off, or sha256:<certificate fingerprint>')
    .option('--http-auth <mode>', 'HTTP apps: inject the account password as basic auth, header:<Name>, or none')
    .option('--postgres-tls <mode>', 'TLS to the PostgreSQL device: prefer, require, off, or sha256:<certificate fingerprint>')
    .option('--mysql-tls <mode>', 'TLS to the MySQL device: prefer, require, off, or sha256:<certificate fingerprint>');
type HttpFlags = { httpScheme?: string; httpTls?: string; httpAuth?: string; postgresTls?: string; mysqlTls?: string };
const DB_TLS = /^(prefer|require|off|sha256:[0-9a-f:]{64,95})$/i;
const httpOptions = (o: HttpFlags, current: Record<string, unknown> = {}): Record<string, unknown> | undefined => {
  const db: Record<string, unknown> = {};
  for (const [flag, key] of [
    ['--postgres-tls', 'postgresTls'],
    ['--mysql-tls', 'mysqlTls'],
  ] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (!DB_TLS.test(v)) throw new GatehouseError('invalid', `${flag} must be prefer, require, off or sha256:<hex fingerprint>`);
    db[key] = v.toLowerCase();
  }
  if (o.httpScheme === undefined && o.httpTls === undefined && o.httpAuth === undefined)
    return Object.keys(db).length ? { ...current, ...db } : undefined;
  if (o.httpScheme !== undefined && !['http', 'https'].includes(o.httpScheme))
    throw new GatehouseError('invalid', '--http-scheme must be http or https');
  if (o.httpTls !== undefined && !/^(verify|off|sha256:[0-9a-f:]{64,95})$/i.test(o.httpTls))
    throw new GatehouseError('invalid', '--http-tls must be verify, off or sha256:<hex fingerprint>');
  if (o.httpAuth !== undefined && !/^(basic|none|header:[A-Za-z0-9-]{1,64})$/.test(o.httpAuth))
    throw new GatehouseError('invalid', '--http-auth must be basic, none or header:<Header-Name>');
  const http = { ...((current.http as Record<string, unknown>) ?? {}) };
  if (o.httpScheme !== undefined) http.scheme = o.httpScheme;
  if (o.httpTls !== undefined) http.tls = o.httpTls;
  if (o.httpAuth !== undefined) http.auth = o.httpAuth;
  return { ...current, ...db, http };
};

function deviceAdd(device: Command): void {
  httpOpts(
    portOpts(
      device
        .command('add <name>')
        .description('add a device')
        .requiredOption('--host <host>', 'address or name')
        .requiredOption('--protocols <list>', 'ssh,sftp,rdp,http,postgres,mysql'),
    ),
  ).action(
    action(async (ctx, name: string, o: { host: string; protocols: string; port?: number; group?: string } & PortFlags & HttpFlags) => {
      const s = await ctx.s();
      await s.admin.addDevice(await ctx.actor(), {
        name,
        host: o.host,
        protocols: o.protocols,
        group: o.group,
        port: o.port,
        ports: ports(o),
        options: httpOptions(o),
      });
      const p = await s.policy.current();
      const d = presentDevice(p, p.devicesByName.get(name)!);
      ctx.out(d, () => [`added device ${name}`, ...d.warnings.map((w) => `warning: ${w}`)].join('\n'));
    }),
  );
}

function deviceSet(device: Command): void {
  httpOpts(portOpts(device.command('set <name>').description('change a device').option('--host <host>').option('--protocols <list>')))
    .option('--enable')
    .option('--disable')
    .option('--clear-host-key', 'forget the pinned SSH host key (the next connection pins a new one)')
    .action(
      action(
        async (
          ctx,
          name: string,
          o: {
            host?: string;
            protocols?: string;
            port?: number;
            group?: string;
            enable?: boolean;
            disable?: boolean;
            clearHostKey?: boolean;
          } & PortFlags &
            HttpFlags,
        ) => {
          const s = await ctx.s();
          const pt = ports(o);
          const stored = await s.deviceOptions.byName(name);
          const options = httpOptions(o, stored !== undefined ? (JSON.parse(stored) as Record<string, unknown>) : {});
          await s.admin.setDevice(await ctx.actor(), name, {
            host: o.host,
            protocols: o.protocols,
            group: o.group,
            port: o.port,
            ports: Object.keys(pt).length ? pt : undefined,
            enabled: o.enable ? true : o.disable ? false : undefined,
            hostKey: o.clearHostKey ? null : undefined,
            options,
          });
          const p = await s.policy.current();
          ctx.out(presentDevice(p, p.devicesByName.get(name)!), () => `updated device ${name}`);
        },
      ),
    );
}

function deviceList(device: Command): void {
  device
    .command('list')
    .description('list devices')
    .action(
      action(async (ctx) => {
        const p = await (await ctx.s()).policy.current();
        const rows = [...p.devicesById.values()].map((d) => presentDevice(p, d));
        ctx.out(
          rows,
          () =>
            table(
              rows.map((r) => ({
                ...r,
                accounts: r.accounts.map((a) => a.name + (a.default ? '*' : '')),
                ports: Object.entries(r.ports).map(([k, v]) => `${k}:${v}`),
              })),
              ['id', 'name', 'host', 'protocols', 'ports', 'group', 'accounts', 'enabled'],
            ) + rows.flatMap((r) => r.warnings.map((w) => `\nwarning: ${r.name}: ${w}`)).join(''),
        );
      }),
    );
}

function deviceAccount(device: Command): void {
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
        const secret = o.keyFile ? { privateKey: readInputFile(o.keyFile, 'key') } : { password: await readStdin() };
        const s = await ctx.s();
        const id = await s.admin.addAccount(await ctx.actor(), dev, acct, secret, o.default);
        ctx.out(
          { id, device: dev, account: acct, secretKind: o.keyFile ? 'key' : 'password' },
          () => `set account ${acct} on ${dev} (secret stored in the vault)`,
        );
      }),
    );
}
