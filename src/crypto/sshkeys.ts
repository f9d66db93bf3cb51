import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';
import type { KeyTools, ParsedPublicKey } from '../core/ports/crypto.js';
import { GatehouseError } from '../core/errors.js';

// ssh2 is loaded on first use: the CLI's data commands reach this module but rarely parse a key.
let loaded: typeof ssh2.utils | null = null;
const utils = {
  parseKey: (...a: Parameters<typeof ssh2.utils.parseKey>) =>
    (loaded ??= (createRequire(import.meta.url)('ssh2') as typeof ssh2).utils).parseKey(...a),
};

export const sshKeyTools: KeyTools = {
  parsePublicKey(text: string): ParsedPublicKey {
    const line = text.trim().split(/\r?\n/)[0] ?? '';
    const parsed = utils.parseKey(line);
    if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey())
      throw new GatehouseError('invalid', 'not an OpenSSH public key (expected a line like "ssh-ed25519 AAAA... comment")', 'sshKey');
    const blob = parsed.getPublicSSH();
    const fingerprint = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
    const parts = line.split(/\s+/);
    return { publicKey: `${parsed.type} ${blob.toString('base64')}`, fingerprint, comment: parts.slice(2).join(' ') || null };
  },
  checkPrivateKey(text: string): void {
    const parsed = utils.parseKey(text);
    if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey())
      throw new GatehouseError('invalid', 'not a usable unencrypted private key (OpenSSH or PEM format)', 'key');
  },
};

/** SHA256 fingerprint of a raw SSH public key blob, as OpenSSH prints it. */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}
