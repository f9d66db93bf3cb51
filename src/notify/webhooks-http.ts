// One webhook POST: signed, with a deadline, no redirects followed, and the response read only up to a
// small cap, so a receiver that streams a huge body or never answers costs one socket for a bounded time.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export interface PostOptions {
  /** The whole exchange, connect to last byte read (default 10 s). */
  timeoutMs: number;
  /** Response bytes read at most; the rest is dropped with the connection (default 64 KiB). */
  maxResponseBytes: number;
}

export const POST_DEFAULTS: PostOptions = { timeoutMs: 10_000, maxResponseBytes: 64 * 1024 };

export interface PostResult {
  /** The HTTP status, when the receiver answered. */
  status: number | null;
  /** Why it did not count as delivered; never the URL's path, query or the secret. */
  error: string | null;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (docs/webhooks.md shows how to verify it). */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Printable text only, short: response excerpts and socket errors go into the delivery log. */
export function clean(text: string, max = 200): string {
  // Control characters are dropped: they could forge lines in logs and terminals.
  return Array.from(text)
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .slice(0, max);
}

function describe(err: unknown, origin: string): string {
  const e = err as { code?: string; message?: string };
  // Node's messages name the address (ECONNREFUSED 127.0.0.1:9) but never the path; strip any URL anyway.
  const msg = clean(String(e.message ?? err).replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, origin), 160);
  return [e.code, msg].filter(Boolean).join(' ');
}

export function postJson(url: string, headers: Record<string, string>, body: string, o: PostOptions = POST_DEFAULTS): Promise<PostResult> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let status: number | null = null;
    let excerpt = '';
    let settled = false;
    // agent: false: one connection per attempt, closed after it, so nothing lingers from a bad receiver.
    const req = mod.request(u, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    const settle = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      const ok = status !== null && status >= 200 && status < 300;
      const why =
        error ?? (ok ? null : `HTTP ${status}${status !== null && status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`);
      resolve({ status, error: why && !ok && excerpt ? `${why}: ${clean(excerpt, 120)}` : why });
    };
    const timer = setTimeout(() => settle(status === null ? `no answer within ${o.timeoutMs} ms` : null), o.timeoutMs);
    req.on('response', (res) => {
      status = res.statusCode ?? null;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        if (excerpt.length < 200) excerpt += chunk.subarray(0, 200).toString('utf8');
        read += chunk.length;
        if (read >= o.maxResponseBytes) settle(null);
      });
      res.on('end', () => settle(null));
      res.on('error', () => settle(null));
    });
    req.on('error', (err) => settle(status === null ? describe(err, u.origin) : null));
    req.end(body);
  });
}
