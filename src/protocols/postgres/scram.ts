// Client side of the password methods PostgreSQL asks for: SCRAM-SHA-256 (RFC 5802/7677, without
// channel binding) and md5. The server's final signature is checked: a fake device learns nothing usable.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

// SaltedPassword for a (password, salt, iterations) the device sent before: a device's role keeps its
// salt, so each new session would redo the same thousands of rounds (off the event loop, in the pool). Keyed
// by an HMAC under a per-process secret; at most a minute old, bounded, memory only.
const SALTED_TTL_MS = 60_000;
const SALTED_MAX = 1000;
const saltedSecret = randomBytes(32);
const saltedCache = new Map<string, { salted: Buffer; until: number }>();

/** Key derivations a device may ask for (PostgreSQL's default is 4096). */
export const MAX_ITERATIONS = 100_000;

async function saltedPassword(password: string, salt: string, iterations: number): Promise<Buffer> {
  const key = createHmac('sha256', saltedSecret).update(`${iterations}\0${salt}\0`).update(password).digest('base64');
  const hit = saltedCache.get(key);
  if (hit && hit.until > Date.now()) return hit.salted;
  saltedCache.delete(key);
  const salted = await pbkdf2Async(password.normalize('NFKC'), Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
  if (saltedCache.size >= SALTED_MAX) saltedCache.delete(saltedCache.keys().next().value as string);
  saltedCache.set(key, { salted, until: Date.now() + SALTED_TTL_MS });
  return salted;
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]));

/** md5 password: 'md5' + md5(md5(password + user) + salt). */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex');
  return (
    'md5' +
    createHash('md5')
      .update(Buffer.concat([Buffer.from(inner), salt]))
      .digest('hex')
  );
}

export class ScramClient {
  private readonly nonce = randomBytes(18).toString('base64');
  private readonly firstBare = `n=*,r=${this.nonce}`;
  private serverSignature: Buffer | null = null;

  constructor(private readonly password: string) {}

  first(): Buffer {
    return Buffer.from(`n,,${this.firstBare}`);
  }

  /** The client-final message for the server-first one. */
  async final(serverFirst: string): Promise<Buffer> {
    const attrs = parseAttrs(serverFirst);
    const r = attrs.get('r');
    const s = attrs.get('s');
    const i = Number(attrs.get('i'));
    if (!r || !s || !r.startsWith(this.nonce) || !Number.isInteger(i) || i < 1 || s.length > 256)
      throw new Error('the device sent an invalid SCRAM challenge');
    // PostgreSQL's default is 4096; a device asking for more than MAX_ITERATIONS costs the gateway's thread pool.
    if (i > MAX_ITERATIONS) throw new Error(`the device asks for ${i} SCRAM iterations; Gatehouse accepts at most ${MAX_ITERATIONS}`);
    const salted = await saltedPassword(this.password, s, i);
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = sha256(clientKey);
    const withoutProof = `c=biws,r=${r}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(storedKey, authMessage));
    this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** Throws unless the server proved it knows the password too. */
  verify(serverFinal: string): void {
    const v = parseAttrs(serverFinal).get('v');
    const got = v ? Buffer.from(v, 'base64') : Buffer.alloc(0);
    if (!this.serverSignature || got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature))
      throw new Error('the device failed SCRAM server verification');
  }
}

function parseAttrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}
