// Who is calling the proxy. The console hands the browser a one-time token (60 s, bound to one device
// host, only its hash stored, consumed by one conditional update); the proxy swaps it for its own cookie,
// scoped to that host. The cookie is an HMAC over user, host and expiry: checking it needs no database,
// and a cookie minted for one device never verifies on another.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpLoginTokenRepository } from '../../core/ports/http-proxy.js';

export const PROXY_COOKIE = '__gh_http';
export const TOKEN_TTL_MS = 60_000;
export const COOKIE_TTL_MS = 12 * 3600_000;
const TOKEN_RE = /^ghh1\.[A-Za-z0-9_-]{43}$/;

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

export class LoginTokens {
  constructor(
    private readonly repo: HttpLoginTokenRepository,
    private readonly now: () => number,
  ) {}

  /** A token for `userId` to present on device host `host` (the device name, lower case). */
  async issue(userId: number, host: string): Promise<string> {
    const token = `ghh1.${randomBytes(32).toString('base64url')}`;
    const now = this.now();
    await this.repo.insert({ tokenHash: sha256(token), userId, host, createdAt: now, expiresAt: now + TOKEN_TTL_MS });
    await this.repo.pruneExpired(now - 3600_000);
    return token;
  }

  /** The user id when the token is valid for this host; consumes it. Forged, used, expired or foreign: null. */
  async consume(token: string, host: string): Promise<number | null> {
    if (!TOKEN_RE.test(token)) return null;
    return this.repo.consume(sha256(token), host, this.now());
  }
}

export interface CookieClaims {
  userId: number;
  host: string;
  exp: number;
}

export class CookieSigner {
  private readonly key: Buffer;
  /** Verified cookies, so the hot path skips the HMAC: value -> claims. Bounded. */
  private readonly seen = new Map<string, CookieClaims>();

  constructor(secret: string) {
    this.key = createHash('sha256').update(`gatehouse-http-proxy-cookie\0${secret}`).digest();
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  sign(c: CookieClaims): string {
    const body = `v1.${c.userId}.${c.host}.${c.exp}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** Claims of a valid, unexpired cookie for `host`; null otherwise. */
  verify(value: string, host: string, now: number): CookieClaims | null {
    let c = this.seen.get(value);
    if (!c) {
      if (value.length > 300) return null;
      const m = /^(v1\.(\d{1,12})\.([a-z0-9_-]{1,63})\.(\d{1,15})\.[A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/.exec(value);
      if (!m) return null;
      const want = Buffer.from(this.mac(m[1]));
      const got = Buffer.from(m[5]);
      if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
      c = { userId: Number(m[2]), host: m[3], exp: Number(m[4]) };
      if (this.seen.size > 50_000) this.seen.clear();
      this.seen.set(value, c);
    }
    if (c.host !== host || c.exp <= now) return null;
    return c;
  }
}

/** The value of one cookie in a Cookie header, without parsing the rest. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let i = header.indexOf(name + '=');
  while (i !== -1) {
    if (i === 0 || header[i - 1] === ' ' || header[i - 1] === ';') {
      const start = i + name.length + 1;
      const end = header.indexOf(';', start);
      return header.slice(start, end === -1 ? undefined : end).trim();
    }
    i = header.indexOf(name + '=', i + 1);
  }
  return undefined;
}

/** The Cookie header without Gatehouse's own cookies (the proxy's and the console's): null when nothing is left. */
export function stripOwnCookies(header: string): string | null {
  const own = header.indexOf(PROXY_COOKIE);
  if (own === -1 && !header.includes('gh_session')) return header;
  // The usual case, only the proxy's cookie: no split.
  if (own === 0 && header.indexOf(';') === -1) return null;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith(`${PROXY_COOKIE}=`) && !p.startsWith('gh_session='));
  return kept.length ? kept.join('; ') : null;
}
