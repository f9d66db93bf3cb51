// AES-256-GCM sealing of device secrets under the vault key. Sealed form: v1:<iv>:<tag>:<ciphertext> (base64).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Vault } from '../core/ports/crypto.js';

export class AesGcmVault implements Vault {
  private readonly key: Buffer;
  constructor(keyMaterial: string) {
    // Accept 32 random bytes as hex/base64, or derive 32 bytes from any other string.
    const t = keyMaterial.trim();
    let k: Buffer | null = null;
    if (/^[0-9a-f]{64}$/i.test(t)) k = Buffer.from(t, 'hex');
    else {
      const b = Buffer.from(t, 'base64');
      if (b.length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(t)) k = b;
    }
    this.key = k ?? createHash('sha256').update(t).digest();
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `v1:${iv.toString('base64')}:${c.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
  }

  open(sealed: string): string {
    const [v, iv, tag, ct] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('vault: unknown sealed format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
    } catch {
      // Never echo the sealed value or the key.
      throw new Error('vault: cannot decrypt a secret (wrong GATEHOUSE_SECRET_KEY?)');
    }
  }
}
