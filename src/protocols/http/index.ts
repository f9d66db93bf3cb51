// HTTP proxy entry point: device web consoles on `<device>.<base domain>`, behind login, the approval
// gate and credential injection. Split by job: config.ts (settings), auth.ts (login token and cookie),
// devices.ts (per-device options), gate.ts (decide and the per-session state), wait.ts (waiting page
// and SSE), forward.ts (the proxying itself), pages.ts (what the proxy shows).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Kysely } from 'kysely';
import { safeRedirect } from '../../core/redirect.js';
import type { Services } from '../../services.js';
import { vaultKey } from '../../services.js';
import { COOKIE_TTL_MS, CookieSigner, LoginTokens, PROXY_COOKIE, cookieValue, type CookieClaims } from './auth.js';
import { deviceOfHost, httpProxyConfig, setProxyOrigin, type HttpProxyConfig, type ProxyOrigin } from './config.js';
import { DeviceSettingsCache } from './devices.js';
import { forward, forwardUpgrade } from './forward.js';
import { Gate, type Access, type GateResult } from './gate.js';
import { accessEnded, badLogin, message, notAvailable, send, upstreamError } from './pages.js';
import { again, Waiter } from './wait.js';
import { closeIfUnread, hasBody, lastOnConnection, readForm } from './limits.js';

export { httpProxyConfig, proxyOrigin, deviceOrigin } from './config.js';
export { LoginTokens } from './auth.js';
export { mayOpen } from './gate.js';

export interface HttpProxy {
  port: number;
  close(): Promise<void>;
}

/** Ambiguous framing (request smuggling): both lengths, several Content-Lengths, or an odd Transfer-Encoding. */
function ambiguous(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  let cl = 0;
  let te = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i].length;
    if (n === 14 && raw[i].toLowerCase() === 'content-length') cl++;
    else if (n === 17 && raw[i].toLowerCase() === 'transfer-encoding') {
      te++;
      if (raw[i + 1].trim().toLowerCase() !== 'chunked') return true;
    }
  }
  return cl > 1 || te > 1 || (cl > 0 && te > 0);
}

const SEEN = Symbol('gatehouse.bytes');
/** What a client connection may have waiting to be sent before the device's side is paused. */
export const CLIENT_BUFFER_BYTES = 256 * 1024;

export async function startHttpProxy(s: Services): Promise<HttpProxy | null> {
  // Invalid settings stop the start (naming the variable), as for every other variable.
  const cfg: HttpProxyConfig = httpProxyConfig(s.config.http);
  const scheme = cfg.tls ? 'https' : 'http';
  let origin: ProxyOrigin = { scheme, baseDomain: cfg.baseDomain, port: cfg.publicPort ?? s.config.httpProxyPort };
  const signer = new CookieSigner(vaultKey(s.config));
  const tokens = new LoginTokens(s.store.db as Kysely<unknown>, () => s.clock.now());
  const gate = new Gate(s, cfg, () => origin, new DeviceSettingsCache(s.store.db as Kysely<unknown>));
  const waiter = new Waiter(s);
  const stats = new StatsWriter(s);

  // Host header -> device host name (or null), so the hot path skips the lower-casing and regexes.
  const hosts = new Map<string, string | null>();
  const deviceHost = (h: string | undefined): string | null => {
    if (h === undefined) return null;
    let d = hosts.get(h);
    if (d === undefined) {
      d = deviceOfHost(h, cfg.baseDomain);
      if (hosts.size > 10_000) hosts.clear();
      hosts.set(h, d);
    }
    return d;
  };

  const instance = async () => (await s.params.params()).str('instance.name');
  const page = (res: ServerResponse, p: Parameters<typeof send>[1]) => void instance().then((n) => send(res, p, n), () => send(res, p));

  const toLogin = (req: IncomingMessage, res: ServerResponse, host: string) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return page(res, message(401, 'Sign in first', 'Open this address in your browser to sign in through Gatehouse.'));
    const url = `${s.config.publicUrl}/api/v1/http-proxy/login?host=${encodeURIComponent(host)}&return=${encodeURIComponent(safeRedirect(req.url))}`;
    res.writeHead(302, { location: url, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  };

  /** Bytes per session from the client socket's counters (headers included), taken when each request ends. */
  const account = (a: Access, sock: (Socket & { [SEEN]?: [number, number] }) | null) => {
    if (!sock) return;
    const prev = sock[SEEN] ?? [0, 0];
    a.bytesIn += sock.bytesRead - prev[0];
    a.bytesOut += sock.bytesWritten - prev[1];
    sock[SEEN] = [sock.bytesRead, sock.bytesWritten];
  };

  const proxy = (a: Access, req: IncomingMessage, res: ServerResponse, now: number) => {
    a.requests++;
    a.lastAt = now;
    a.dirty = true;
    const live = a.live.add(res);
    const sock = req.socket;
    forward(
      req,
      res,
      a.target,
      (kind, err) => {
        s.log.warn({ device: a.device.name, kind, code: (err as { code?: string }).code }, 'http upstream failed');
        page(res, upstreamError(kind, a.device.name));
      },
      () => {
        a.live.remove(live);
        account(a, sock);
      },
    );
  };

  const onResult = (req: IncomingMessage, res: ServerResponse, host: string, claims: CookieClaims, r: GateResult) => {
    if (r.kind === 'pass') return proxy(r.access, req, res, s.clock.now());
    if (r.kind === 'ended') return page(res, accessEnded(r.access.ended ?? 'access ended'));
    if (r.kind === 'unavailable') return page(res, notAvailable());
    if (req.method !== 'GET' && req.method !== 'HEAD') return page(res, message(403, 'Approval required', `Access to ${r.device.name} needs approval: open it in your browser to ask.`));
    return waiter.page(req, res, `${claims.userId}:${host}`, r.user, r.device, r.decision.requireReason, r.decision.noApprover);
  };

  const internal = async (req: IncomingMessage, res: ServerResponse, host: string, claims: CookieClaims | null) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const now = s.clock.now();
    if (u.pathname === '/.gatehouse/auth' && req.method === 'GET') {
      // Checked before the token is consumed: whatever the return, the one-time token signs in.
      const to = safeRedirect(u.searchParams.get('return'));
      const userId = await tokens.consume(u.searchParams.get('token') ?? '', host);
      if (userId === null) return page(res, badLogin());
      const value = signer.sign({ userId, host, exp: now + COOKIE_TTL_MS });
      res.writeHead(303, {
        location: to,
        'set-cookie': `${PROXY_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_TTL_MS / 1000}${scheme === 'https' ? '; Secure' : ''}`,
        'cache-control': 'no-store',
        'content-length': 0,
      });
      return res.end();
    }
    if (!claims) return toLogin(req, res, host);
    const p = await s.policy.current();
    const user = p.usersById.get(claims.userId);
    if (!user) return page(res, notAvailable());
    const key = `${claims.userId}:${host}`;
    if (u.pathname === '/.gatehouse/events' && req.method === 'GET') return waiter.events(res, claims.userId, Number(u.searchParams.get('id')));
    if (req.method !== 'POST') return page(res, message(405, 'Not allowed', 'This address only takes form posts.'));
    // Forms post to the same origin; a cross-site post carries no cookie (SameSite=Lax), and Origin is checked too.
    const site = req.headers['sec-fetch-site'];
    const o = req.headers.origin;
    const foreign = site !== undefined ? site !== 'same-origin' : o !== undefined && o.replace(/^https?:\/\//, '') !== String(req.headers.host);
    if (foreign) return page(res, message(403, 'Refused', 'This form came from another site.'));
    const form = await readForm(req);
    if (form === 'too-large') {
      lastOnConnection(res);
      return page(res, message(413, 'Too large', 'This form is larger than Gatehouse accepts.'));
    }
    if (!form) return page(res, message(400, 'Bad request', 'The form could not be read.'));
    if (u.pathname === '/.gatehouse/cancel') return waiter.cancel(res, user, Number(form.get('id')));
    if (u.pathname === '/.gatehouse/again') {
      gate.forget(claims.userId, host);
      waiter.forget(key);
      return again(res);
    }
    if (u.pathname === '/.gatehouse/request') {
      const r = await gate.check(claims.userId, host);
      if (r.kind !== 'approval') return again(res);
      return waiter.page(req, res, key, r.user, r.device, r.decision.requireReason, r.decision.noApprover, form.get('reason') ?? '');
    }
    page(res, notAvailable());
  };

  // A throw in one request's handling ends that request (a 500 page), never the process.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    try {
      handle(req, res);
    } catch (err) {
      fail(res, err);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (ambiguous(req)) {
      res.shouldKeepAlive = false;
      return page(res, message(400, 'Bad request', 'The request framing is ambiguous.'));
    }
    // Every answer that leaves part of a body unread ends the connection (the device's own answers too).
    if (hasBody(req)) closeIfUnread(req, res);
    const host = deviceHost(req.headers.host);
    if (!host) return page(res, notAvailable());
    const now = s.clock.now();
    const c = cookieValue(req.headers.cookie, PROXY_COOKIE);
    const claims = c ? signer.verify(c, host, now) : null;
    const url = req.url ?? '/';
    if (url.startsWith('/.gatehouse/')) {
      internal(req, res, host, claims).catch((err) => fail(res, err));
      return;
    }
    if (!claims) return toLogin(req, res, host);
    const a = gate.fast(claims.userId, host, now);
    if (a) return proxy(a, req, res, now);
    gate
      .check(claims.userId, host)
      .then((r) => onResult(req, res, host, claims, r))
      .catch((err) => fail(res, err));
  };

  const fail = (res: ServerResponse, err: unknown) => {
    s.log.error({ err: String(err) }, 'http proxy request failed');
    if (!res.headersSent) page(res, message(500, 'Something went wrong', 'Gatehouse could not handle this request. Try again; if it keeps failing, tell your administrator.'));
    else res.destroy();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      upgrade(req, socket, head);
    } catch (err) {
      s.log.error({ err: String(err) }, 'http proxy upgrade failed');
      socket.destroy();
    }
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    socket.on('error', () => socket.destroy());
    if (ambiguous(req)) return refuse('400 Bad Request');
    const host = deviceHost(req.headers.host);
    const now = s.clock.now();
    const c = cookieValue(req.headers.cookie, PROXY_COOKIE);
    const claims = host && c ? signer.verify(c, host, now) : null;
    if (!host || !claims) return refuse('403 Forbidden');
    const go = (a: Access) => {
      a.requests++;
      a.lastAt = now;
      a.dirty = true;
      void forwardUpgrade(req, socket, head, a.target, (d) => gate.track(a, d));
    };
    const a = gate.fast(claims.userId, host, now);
    if (a) return go(a);
    gate.check(claims.userId, host).then(
      (r) => (r.kind === 'pass' ? go(r.access) : refuse('403 Forbidden')),
      () => refuse('500 Internal Server Error'),
    );
  };

  // A 256 KiB write buffer per client connection before backpressure (Node's default is 16 KiB), so a
  // 64 KiB answer does not pause and resume the device's connection several times (docs/benchmarks.md).
  const opts = { highWaterMark: CLIENT_BUFFER_BYTES };
  const server: Server = cfg.tls ? createHttpsServer({ ...opts, cert: cfg.tls.cert, key: cfg.tls.key }, onRequest) : createHttpServer(opts, onRequest);
  server.keepAliveTimeout = 65_000;
  server.on('upgrade', onUpgrade);
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    const body = `${status}\n`;
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(s.config.httpProxyPort, s.config.bind, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    s.log.error({ http: `${s.config.bind}:${s.config.httpProxyPort}`, err: String(err) }, 'http proxy could not listen (port busy or not allowed): the HTTP proxy is off; set GATEHOUSE_HTTP_PROXY_PORT to a free port');
    return null;
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : s.config.httpProxyPort;
  origin = { ...origin, port: cfg.publicPort ?? port };
  setProxyOrigin(s, origin);
  s.log.info({ http: `${scheme}://${s.config.bind}:${port}`, baseDomain: cfg.baseDomain }, 'http proxy listening');

  const timer = setInterval(() => {
    gate.idle(s.clock.now());
    void stats.flush(gate.accesses.values());
  }, 5000);
  timer.unref();

  return {
    port,
    async close() {
      clearInterval(timer);
      waiter.close();
      await stats.flush(gate.accesses.values());
      await gate.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Request counts and first/last request time per session, written every 5 s (never per request). Bytes
 * go through the session registry, which asks the handle every second and at the end.
 */
class StatsWriter {
  private busy = false;
  constructor(private readonly s: Services) {}

  async flush(accesses: Iterable<Access>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = this.s.store.db as Kysely<any>;
      for (const a of [...accesses]) {
        if (!a.dirty || a.sessionId === null) continue;
        a.dirty = false;
        const row = { session_id: a.sessionId, requests: a.requests, first_request_at: a.firstAt, last_request_at: a.lastAt };
        await db
          .insertInto('http_session_stats')
          .values(row)
          .onConflict((oc) => oc.column('session_id').doUpdateSet({ requests: a.requests, last_request_at: a.lastAt }))
          .execute();
      }
    } catch (err) {
      this.s.log.warn({ err: String(err) }, 'http session figures could not be written; will retry');
    } finally {
      this.busy = false;
    }
  }
}
