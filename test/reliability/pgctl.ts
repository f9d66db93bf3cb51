// A PostgreSQL cluster of the test's own (scripts/pg.mjs), which the test may stop and start again.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
// @ts-expect-error plain ESM script without types
import { startPostgres } from '../../scripts/pg.mjs';

export interface OwnPg {
  url: string;
  down(): void;
  up(): void;
  destroy(): void;
}

const bin = (name: string) =>
  ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']
    .map((d) => join(d, name))
    .find((p) => existsSync(p));

/** Null (with the reason) when PostgreSQL is not installed. */
export async function ownPostgres(): Promise<OwnPg | string> {
  const pg = (await startPostgres()) as { url: string | null; reason?: string; stop: () => void; dir: string };
  if (!pg.url) return pg.reason ?? 'no PostgreSQL';
  const pgctl = bin('pg_ctl')!;
  const port = new URL(pg.url).port;
  const data = join(pg.dir, 'data');
  const root = process.getuid?.() === 0;
  const as = (args: string[]) => {
    const r = root
      ? spawnSync('runuser', ['-u', 'postgres', '--', pgctl, ...args], { encoding: 'utf8' })
      : spawnSync(pgctl, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pg_ctl ${args.at(-1)}: ${r.stderr}`);
  };
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${pg.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB`;
  return {
    url: pg.url,
    down: () => as(['-D', data, '-m', 'fast', '-w', 'stop']),
    up: () => as(['-D', data, '-l', join(pg.dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']),
    destroy: () => pg.stop(),
  };
}
