// A real Dovecot IMAP server (Debian's dovecot-imapd) on 127.0.0.1 with a throw-away config, one
// mailbox user and Maildir storage in a temp dir. Runs as root (as CI does); mail is owned by nobody.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { hasBinary } from '../helpers/peers.js';
import { freePort, waitFor } from './helpers.js';

export const DOVECOT = hasBinary('dovecot') && userInfo().uid === 0;

export interface Dovecot {
  port: number;
  user: string;
  pass: string;
  /** The user's Maildir (exists once the user has logged in), for tests that drop mail in directly. */
  maildir: string;
  stop(): Promise<void>;
}

export async function startDovecot(): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dovecot-'));
  chmodSync(dir, 0o755); // dovecot's auth process (user dovecot) reads the passwd file
  const port = await freePort();
  const user = 'approvals';
  const pass = 'imap-pass-123';
  const mail = join(dir, 'mail');
  mkdirSync(mail, { recursive: true });
  chownSync(mail, 65534, 65534);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${pass}::::::\n`);
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = gh-dovecot-${port}
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${mail}/%u
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${mail}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
protocol imap {
  mail_max_userip_connections = 50
}
`,
  );
  const proc: ChildProcess = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  let exited = false;
  proc.on('exit', () => (exited = true));
  await waitFor(
    'dovecot to listen',
    () =>
      new Promise<boolean>((resolve) => {
        if (exited) throw new Error(`dovecot exited: ${err}`);
        const sock = connect(port, '127.0.0.1');
        sock.once('data', (d) => {
          sock.destroy();
          resolve(/\* OK/.test(d.toString()));
        });
        sock.once('error', () => resolve(false));
      }),
    15_000,
    100,
  );
  return {
    port,
    user,
    pass,
    maildir: join(mail, user),
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      if (!process.env.GH_KEEP_DOVECOT) rmSync(dir, { recursive: true, force: true });
      else console.log(dir);
    },
  };
}
