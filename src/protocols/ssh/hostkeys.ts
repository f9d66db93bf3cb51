// The gateway's own SSH host keys: ed25519 (what current clients pick) and RSA (for old clients).
// Made on first run into the data dir with mode 0600 and kept, so clients' known_hosts stay valid.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const { utils } = ssh2;

/**
 * A new key pair in OpenSSH format. ssh2's generator drops a leading zero byte of an ed25519 public
 * key (about 1 key in 400), making a key nothing can read: such a key is thrown away and made again.
 */
export function generateKey(type: 'ed25519' | 'rsa'): { private: string; public: string } {
  for (;;) {
    const pair = type === 'rsa' ? utils.generateKeyPairSync('rsa', { bits: 3072 }) : utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

const KEYS = [
  { file: 'ssh_host_ed25519_key', make: () => generateKey('ed25519') },
  { file: 'ssh_host_rsa_key', make: () => generateKey('rsa') },
] as const;

/** The private host keys (OpenSSH format), generated when missing. */
export function loadHostKeys(dataDir: string): Buffer[] {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return KEYS.map(({ file, make }) => {
    const path = join(dataDir, file);
    if (!existsSync(path)) {
      const pair = make();
      try {
        writeFileSync(path, pair.private, { mode: 0o600, flag: 'wx' });
        writeFileSync(`${path}.pub`, `${pair.public} gatehouse\n`, { mode: 0o600 });
      } catch (err) {
        // Another process made it first: use theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    chmodSync(path, 0o600);
    const key = readFileSync(path);
    const parsed = utils.parseKey(key);
    if (parsed instanceof Error) throw new Error(`cannot read the SSH host key ${path}: ${parsed.message}`);
    return key;
  });
}

/** The SHA256 fingerprints of the host keys in a data dir, as `ssh` prints them when it asks to trust the host. */
export function hostKeyFingerprints(dataDir: string): { type: string; fingerprint: string }[] {
  return KEYS.flatMap(({ file }) => {
    const path = join(dataDir, `${file}.pub`);
    if (!existsSync(path)) return [];
    const [type, blob] = readFileSync(path, 'utf8').trim().split(/\s+/);
    const fingerprint = 'SHA256:' + createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '');
    return [{ type: type.replace(/^ssh-/, '').toUpperCase(), fingerprint }];
  });
}
