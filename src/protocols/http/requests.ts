// What the proxy does with each request and upgrade: framing checks, the cookie, the internal
// `/.gatehouse/` paths (token swap, the waiting page's forms and events), the gate, then forwarding.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { safeRedirect } from '../../core/redirect.js';
import type { Services } from '../../services.js';
import { COOKIE_TTL_MS, PROXY_COOKIE, cookieValue, type CookieClaims, type CookieSigner, type LoginTokens } from './auth.js';
import { deviceOfHost, type HttpProxyConfig, type ProxyOrigin } from './config.js';
import { forward, forwardUpgrade } from './forward.js';
import type { Access, Gate, GateResult } from './gate.js';
import { closeIfUnread, hasBody, lastOnConnection, readForm } from './limits.js';
import { accessEnded, badLogin, message, notAvailable, send, upstreamError, type Page } from './pages.js';
import { again, type Waiter } from './wait.js';

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

/** Bytes per session from the client socket's counters (headers included), taken when each request ends. */
function account(a: Access, sock: (Socket & { [SEEN]?: [number, number] }) | null) {
  if (!sock) return;
  const prev = sock[SEEN] ?? [0, 0];
  a.bytesIn += sock.bytesRead - prev[0];
  a.bytesOut += sock.bytesWritten - prev[1];
  sock[SEEN] = [sock.bytesRead, sock.bytesWritten];
}

export interface ProxyParts {
  s: Services;
  cfg: HttpProxyConfig;
  scheme: ProxyOrigin['scheme'];
  signer: CookieSigner;
  tokens: LoginTokens;
  gate: Gate;
  waiter: Waiter;
}

export class ProxyRequests {
  /** Host header -> device host name (or null), so the hot path skips the lower-casing and regexes. */
  private readonly hosts = new Map<string, string | null>();
  private readonly s: Services;

  constructor(private readonly p: ProxyParts) {
    this.s = p.s;
  }

  // A throw in one request's handling ends that request (a 500 page), never the process.
  readonly onRequest = (req: IncomingMessage, res: ServerResponse) => {
    try {
      this.handle(req, res);
    } catch (err) {
      this.fail(res, err);
    }
  };

  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      this.upgrade(req, socket, head);
    } catch (err) {
      this.s.log.error({ err: String(err) }, 'http proxy upgrade failed');
      socket.destroy();
    }
  };

  private deviceHost(h: string | undefined): string | null {
    if (h === undefined) return null;
    let d = this.hosts.get(h);
    if (d === undefined) {
      d = deviceOfHost(h, this.p.cfg.baseDomain);
      if (this.hosts.size > 10_000) this.hosts.clear();
      this.hosts.set(h, d);
    }
    return d;
  }

  private async instance(): Promise<string> {
    return (await this.s.params.params()).str('instance.name');
  }

  private page(res: ServerResponse, p: Page) {
    void this.instance().then(
      (n) => send(res, p, n),
      () => send(res, p),
    );
  }

  private fail(res: ServerResponse, err: unknown) {
    this.s.log.error({ err: String(err) }, 'http proxy request failed');
    if (!res.headersSent)
      this.page(
        res,
        message(
          500,
          'Something went wrong',
          'Gatehouse could not handle this request. Try again; if it keeps failing, tell your administrator.',
        ),
      );
    else res.destroy();
  }

  private toLogin(req: IncomingMessage, res: ServerResponse, host: string) {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return this.page(res, message(401, 'Sign in first', 'Open this address in your browser to sign in through Gatehouse.'));
    const url = `${this.s.config.publicUrl}/api/v1/http-proxy/login?host=${encodeURIComponent(host)}&return=${encodeURIComponent(safeRedirect(req.url))}`;
    res.writeHead(302, { location: url, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    if (ambiguous(req)) {
      res.shouldKeepAlive = false;
      return this.page(res, message(400, 'Bad request', 'The request framing is ambiguous.'));
    }
    // Every answer that leaves part of a body unread ends the connection (the device's own answers too).
    if (hasBody(req)) closeIfUnread(req, res);
    const host = this.deviceHost(req.headers.host);
    if (!host) return this.page(res, notAvailable());
    const now = this.s.clock.now();
    const c = cookieValue(req.headers.cookie, PROXY_COOKIE);
    const claims = c ? this.p.signer.verify(c, host, now) : null;
    const url = req.url ?? '/';
    if (url.startsWith('/.gatehouse/')) {
      this.internal(req, res, host, claims).catch((err) => this.fail(res, err));
      return;
    }
    if (!claims) return this.toLogin(req, res, host);
    const a = this.p.gate.fast(claims.userId, host, now);
    if (a) return this.proxy(a, req, res, now);
    this.p.gate
      .check(claims.userId, host)
      .then((r) => this.onResult(req, res, host, claims, r))
      .catch((err) => this.fail(res, err));
  }

  private proxy(a: Access, req: IncomingMessage, res: ServerResponse, now: number) {
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
        this.s.log.warn({ device: a.device.name, kind, code: (err as { code?: string }).code }, 'http upstream failed');
        this.page(res, upstreamError(kind, a.device.name));
      },
      () => {
        a.live.remove(live);
        account(a, sock);
      },
    );
  }

  private onResult(req: IncomingMessage, res: ServerResponse, host: string, claims: CookieClaims, r: GateResult) {
    if (r.kind === 'pass') return this.proxy(r.access, req, res, this.s.clock.now());
    if (r.kind === 'ended') return this.page(res, accessEnded(r.access.ended ?? 'access ended'));
    if (r.kind === 'unavailable') return this.page(res, notAvailable());
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return this.page(
        res,
        message(403, 'Approval required', `Access to ${r.device.name} needs approval: open it in your browser to ask.`),
      );
    return this.p.waiter.page(req, res, `${claims.userId}:${host}`, r.user, r.device, r.decision.requireReason, r.decision.noApprover);
  }

  /** `/.gatehouse/auth`: swaps the console's one-time token for the proxy's cookie on this host. */
  private async swapToken(res: ServerResponse, host: string, u: URL, now: number) {
    // Checked before the token is consumed: whatever the return, the one-time token signs in.
    const to = safeRedirect(u.searchParams.get('return'));
    const userId = await this.p.tokens.consume(u.searchParams.get('token') ?? '', host);
    if (userId === null) return this.page(res, badLogin());
    const value = this.p.signer.sign({ userId, host, exp: now + COOKIE_TTL_MS });
    res.writeHead(303, {
      location: to,
      'set-cookie': `${PROXY_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_TTL_MS / 1000}${this.p.scheme === 'https' ? '; Secure' : ''}`,
      'cache-control': 'no-store',
      'content-length': 0,
    });
    res.end();
  }

  private async internal(req: IncomingMessage, res: ServerResponse, host: string, claims: CookieClaims | null) {
    const u = new URL(req.url ?? '/', 'http://x');
    const now = this.s.clock.now();
    if (u.pathname === '/.gatehouse/auth' && req.method === 'GET') return this.swapToken(res, host, u, now);
    if (!claims) return this.toLogin(req, res, host);
    const p = await this.s.policy.current();
    const user = p.usersById.get(claims.userId);
    if (!user) return this.page(res, notAvailable());
    const key = `${claims.userId}:${host}`;
    if (u.pathname === '/.gatehouse/events' && req.method === 'GET')
      return this.p.waiter.events(res, claims.userId, Number(u.searchParams.get('id')));
    if (req.method !== 'POST') return this.page(res, message(405, 'Not allowed', 'This address only takes form posts.'));
    // Forms post to the same origin; a cross-site post carries no cookie (SameSite=Lax), and Origin is checked too.
    const site = req.headers['sec-fetch-site'];
    const o = req.headers.origin;
    const foreign =
      site !== undefined ? site !== 'same-origin' : o !== undefined && o.replace(/^https?:\/\//, '') !== String(req.headers.host);
    if (foreign) return this.page(res, message(403, 'Refused', 'This form came from another site.'));
    const form = await readForm(req);
    if (form === 'too-large') {
      lastOnConnection(res);
      return this.page(res, message(413, 'Too large', 'This form is larger than Gatehouse accepts.'));
    }
    if (!form) return this.page(res, message(400, 'Bad request', 'The form could not be read.'));
    if (u.pathname === '/.gatehouse/cancel') return this.p.waiter.cancel(res, user, Number(form.get('id')));
    if (u.pathname === '/.gatehouse/again') {
      this.p.gate.forget(claims.userId, host);
      this.p.waiter.forget(key);
      return again(res);
    }
    if (u.pathname === '/.gatehouse/request') {
      const r = await this.p.gate.check(claims.userId, host);
      if (r.kind !== 'approval') return again(res);
      return this.p.waiter.page(req, res, key, r.user, r.device, r.decision.requireReason, r.decision.noApprover, form.get('reason') ?? '');
    }
    this.page(res, notAvailable());
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    socket.on('error', () => socket.destroy());
    if (ambiguous(req)) return refuse('400 Bad Request');
    const host = this.deviceHost(req.headers.host);
    const now = this.s.clock.now();
    const c = cookieValue(req.headers.cookie, PROXY_COOKIE);
    const claims = host && c ? this.p.signer.verify(c, host, now) : null;
    if (!host || !claims) return refuse('403 Forbidden');
    const go = (a: Access) => {
      a.requests++;
      a.lastAt = now;
      a.dirty = true;
      void forwardUpgrade(req, socket, head, a.target, (d) => this.p.gate.track(a, d));
    };
    const a = this.p.gate.fast(claims.userId, host, now);
    if (a) return go(a);
    this.p.gate.check(claims.userId, host).then(
      (r) => (r.kind === 'pass' ? go(r.access) : refuse('403 Forbidden')),
      () => refuse('500 Internal Server Error'),
    );
  }
}
