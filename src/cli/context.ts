// Shared plumbing for CLI commands: config, services, output (--json or text), errors, stdin.
// Config, logger and services load on first use: `--help` and argument errors stay cheap.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import type { Actor } from '../core/admin/service.js';
import type { Services } from '../services-core.js';

export class Ctx {
  private services: Services | null = null;
  constructor(readonly json: boolean) {}

  async s(): Promise<Services> {
    if (this.services) return this.services;
    const [{ loadConfig }, { makeLazyLogger }, { openDataServices }, { ensureAdmin }] = await Promise.all([
      import('../config/env.js'),
      import('../log.js'),
      import('./data-services.js'),
      import('../services-core.js'),
    ]);
    // The CLI's output is for people and scripts: it logs warnings and worse unless asked for more.
    const config = loadConfig({ ...process.env, GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL || 'warn' });
    const log = makeLazyLogger(config.logLevel, 'stderr');
    this.services = await openDataServices(config, log);
    const admin = await ensureAdmin(this.services);
    if (admin.generatedPassword)
      process.stderr.write(
        `First run: created user 'admin' with password ${admin.generatedPassword}\n(shown once; set GATEHOUSE_ADMIN_PASSWORD before the first run to choose it)\n`,
      );
    return this.services;
  }

  /** The acting user: --as <user>, else the built-in admin. The CLI runs with the database's own rights. */
  async actor(as?: string): Promise<Actor> {
    const s = await this.s();
    const p = await s.policy.current();
    const name = as ?? 'admin';
    const u = p.usersByName.get(name);
    if (!u || u.disabled) throw new GatehouseError('not_found', `unknown user '${name}'`);
    return { username: u.username, id: u.id, channel: 'cli' };
  }

  out(data: unknown, text: () => string): void {
    process.stdout.write(this.json ? JSON.stringify(data, null, 2) + '\n' : text() + '\n');
  }

  async close(): Promise<void> {
    await this.services?.close();
  }
}

export function ctxOf(cmd: Command): Ctx {
  const o = cmd.optsWithGlobals() as { json?: boolean };
  return new Ctx(!!o.json);
}

/** Wraps an action: opens services lazily, closes them, turns errors into a message and exit code. */
export function action<A extends unknown[]>(fn: (ctx: Ctx, ...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const ctx = ctxOf(cmd);
    try {
      await fn(ctx, ...args);
    } catch (err) {
      fail(ctx.json, err);
    } finally {
      await ctx.close().catch(() => {});
    }
  };
}

/** By name, not instanceof: `serve` and `demo` run the server's own copy of the core (dist/), not the bundle's. */
const isGatehouseError = (err: unknown): err is GatehouseError =>
  err instanceof GatehouseError || (err instanceof Error && err.name === 'GatehouseError' && 'code' in err);

export function fail(json: boolean, err: unknown): never {
  const code = isGatehouseError(err) ? err.code : (err as { name?: string })?.name === 'ConfigError' ? 'config' : 'error';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message, field: (err as GatehouseError).field } }) + '\n');
  else process.stderr.write(`gatehouse: ${message}\n`);
  if (!isGatehouseError(err) && code !== 'config' && process.env.GATEHOUSE_DEBUG)
    process.stderr.write(String((err as Error)?.stack) + '\n');
  process.exit(code === 'invalid' || code === 'config' ? 2 : 1);
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new GatehouseError('invalid', 'expected the secret on standard input (pipe it in, e.g. printf "..." | gatehouse ...)');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A file named on the command line (a key, a certificate); a clear error when it cannot be read. */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new GatehouseError('invalid', `cannot read ${what} file '${path}'`);
  }
}

export function table(rows: Record<string, unknown>[], cols: string[]): string {
  if (!rows.length) return '(none)';
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',') || '-';
  return String(v);
}

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Parses a time for --start/--end: ISO 8601, or +30m / +2h / +1d from now. */
export function parseTime(v: string, now = Date.now()): number {
  const rel = /^\+(\d+)([smhd])$/.exec(v.trim());
  if (rel) return now + Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new GatehouseError('invalid', `'${v}' is not a time: use ISO 8601 (2026-12-01T09:00Z) or +30m, +2h, +1d`);
  return t;
}
