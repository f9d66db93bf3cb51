// Starts a throw-away PostgreSQL cluster on 127.0.0.1 for tests (used by scripts/test.mjs and .ci/run).
// Runs as the `postgres` user when invoked as root, since PostgreSQL refuses to run as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function which(bin) {
  const dirs = [
    '/usr/local/bin',
    '/usr/lib/postgresql/17/bin',
    '/usr/lib/postgresql/16/bin',
    '/usr/lib/postgresql/15/bin',
    ...(process.env.PATH ?? '').split(':'),
  ];
  for (const d of dirs) if (d && existsSync(join(d, bin))) return join(d, bin);
  return null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Returns { url, stop } or null (with a reason) when PostgreSQL is not installed. */
export async function startPostgres() {
  const initdb = which('initdb');
  const pgctl = which('pg_ctl');
  if (!initdb || !pgctl) return { url: null, reason: 'PostgreSQL (initdb, pg_ctl) not installed' };
  const root = process.getuid?.() === 0;
  let uid, gid;
  if (root) {
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    } catch {
      return { url: null, reason: 'running as root and there is no postgres user to run PostgreSQL as' };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'gh-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  if (root) chownSync(dir, uid, gid);
  const as = (cmd, args) =>
    root ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, 'gatehouse\n');
  if (root) chownSync(pwfile, uid, gid);
  let r = as(initdb, ['-D', data, '-U', 'gatehouse', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8']);
  if (r.status !== 0) return { url: null, reason: `initdb failed: ${r.stderr?.slice(0, 300)}` };
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB`;
  r = as(pgctl, ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']);
  if (r.status !== 0) return { url: null, reason: `pg_ctl start failed: ${r.stderr?.slice(0, 300)}` };
  const url = `postgres://gatehouse:gatehouse@127.0.0.1:${port}/postgres`;
  const stop = () => {
    as(pgctl, ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, stop, dir };
}

// Run directly: start and print the URL, stay up until killed (.ci/run uses this).
if (import.meta.url === `file://${process.argv[1]}`) {
  const pg = await startPostgres();
  if (!pg.url) {
    console.error(`postgres: ${pg.reason}`);
    process.exit(1);
  }
  console.log(pg.url);
  const bye = () => {
    pg.stop();
    process.exit(0);
  };
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
  setInterval(() => {}, 1 << 30);
}
