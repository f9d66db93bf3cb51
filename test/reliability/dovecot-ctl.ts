// Stops and starts again the real Dovecot that test/mail/dovecot.ts started, on the same port and mailbox
// (its mail directory survives): found by the instance name that names its port, stopped by the pid in its
// own master.pid, then its leftover processes (logged-in IMAP sessions outlive the master) by their pids,
// as `systemctl stop` would; started again as `dovecot -F -c <its conf>`.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../mail/helpers.js';

export interface DovecotCtl {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Delivers a message straight into the user's Maildir, as the MTA's local delivery does (IMAP not needed). */
  deliver(user: string, raw: Buffer): void;
  /** Stops the copy this module started, if any (call before the Dovecot's own stop()). */
  cleanup(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('data', (d) => {
      sock.destroy();
      resolve(/\* OK/.test(d.toString()));
    });
    sock.once('error', () => resolve(false));
  });

export function dovecotCtl(port: number): DovecotCtl {
  const dir = readdirSync(tmpdir())
    .filter((n) => n.startsWith('gh-dovecot-'))
    .map((n) => join(tmpdir(), n))
    .find((d) => {
      try {
        return readFileSync(join(d, 'dovecot.conf'), 'utf8').includes(`instance_name = gh-dovecot-${port}\n`);
      } catch {
        return false;
      }
    });
  if (!dir) throw new Error(`no Dovecot configuration for port ${port}`);
  let mine: ChildProcess | null = null;
  /** The processes of this instance left behind by the master (its logged-in imap sessions live on). */
  const leftovers = () =>
    readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          return readFileSync(`/proc/${n}/cmdline`, 'utf8').startsWith(`dovecot-gh-dovecot-${port}/`);
        } catch {
          return false;
        }
      })
      .map(Number);
  const stopPid = async () => {
    const pid = Number(readFileSync(join(dir, 'run', 'master.pid'), 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    await waitFor('dovecot to stop', () => !alive(pid), 15_000, 50);
    // Like `systemctl stop dovecot` (the whole control group): logged-in sessions end too.
    for (const p of leftovers()) process.kill(p, 'SIGTERM');
    await waitFor('dovecot sessions to end', () => leftovers().every((p) => !alive(p)), 15_000, 50);
  };
  return {
    async stop() {
      await stopPid();
      mine = null;
    },
    async start() {
      mine = spawn('dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' });
      await waitFor('dovecot to listen again', () => listening(port), 15_000, 100);
    },
    deliver(user, raw) {
      const md = join(dir, 'mail', user);
      for (const sub of ['tmp', 'new', 'cur']) {
        mkdirSync(join(md, sub), { recursive: true });
        chownSync(join(md, sub), 65534, 65534);
      }
      const name = `${Math.floor(Date.now() / 1000)}.M${randomBytes(4).toString('hex')}P${process.pid}.gh-test,S=${raw.length}`;
      writeFileSync(join(md, 'tmp', name), raw, { mode: 0o600 });
      chownSync(join(md, 'tmp', name), 65534, 65534);
      renameSync(join(md, 'tmp', name), join(md, 'new', name));
    },
    async cleanup() {
      if (mine && mine.exitCode === null && mine.signalCode === null) {
        const m = mine;
        m.kill('SIGTERM');
        await new Promise((r) => m.once('exit', r));
      }
      mine = null;
    },
  };
}
