// The PostgreSQL tests' peers: the device and gateway starters (bench/lib/pgdb.ts, shared with
// bench/db.ts), and the stock psql as a child process.
import { spawn } from 'node:child_process';

export * from '../../bench/lib/pgdb.js';

export interface PsqlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PsqlProc {
  done: Promise<PsqlRun>;
  /** Resolves with stderr once it matches. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  kill(): void;
}

type PsqlOpts = { conn?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number };

/** Stock psql against the gateway; `conn` is added to the libpq connection string. */
export function launchPsql(port: number, user: string, password: string, args: string[], o: PsqlOpts = {}): PsqlProc {
  const conn = `host=127.0.0.1 port=${port} user=${user} dbname=app sslmode=require ${o.conn ?? ''}`;
  const p = spawn('psql', [conn, '-X', '-v', 'ON_ERROR_STOP=1', ...args], {
    env: { ...process.env, PGPASSWORD: password, ...o.env },
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const t = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  if (o.input !== undefined) p.stdin.end(o.input);
  else p.stdin.end();
  const done = new Promise<PsqlRun>((resolve) =>
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    done,
    kill: () => p.kill('SIGKILL'),
    async waitFor(re, ms = 20_000) {
      const until = Date.now() + ms;
      while (!re.test(stderr)) {
        if (Date.now() > until || p.exitCode !== null) throw new Error(`psql: timed out waiting for ${re}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return stderr;
    },
  };
}

export const psql = (port: number, user: string, password: string, args: string[], o: PsqlOpts = {}) =>
  launchPsql(port, user, password, args, o).done;
