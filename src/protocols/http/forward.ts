// Proxying one request: undici's dispatch straight into the client's response (no stream.pipeline on
// the hot path), keep-alive pools per upstream, hop-by-hop and Gatehouse's own
// cookies stripped, X-Forwarded-* set, the credential injected, Location rewritten back to the proxy.
// For a device with an injected credential the answer is scanned and the secret masked (scrub.ts, body.ts).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import type { HttpDeviceSettings } from './devices.js';
import { stripOwnCookies } from './auth.js';
import { ScrubbedBody, codingOf, withoutCoding } from './body.js';
import { FrameScrubber, scrubRawHeaders, secretForms } from './scrub.js';
import { upstreamBody } from './limits.js';

/** Headers that describe one hop, never forwarded (RFC 9110 7.6.1), plus ones undici sets itself. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
]);
const HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'te']);

export interface Upstream {
  pool: Pool;
  /** `http://10.0.0.5:8080`, as Location headers from the device may spell it. */
  origin: string;
  /** The Host header the device expects. */
  hostHeader: string;
}

export interface ForwardTarget {
  upstream: Upstream;
  /** Where the user reaches this device through the proxy: `http://web01.localhost:8081`. */
  publicOrigin: string;
  publicHost: string;
  publicProto: 'http' | 'https';
  /** [lower-case header name, value] carrying the credential, or null. */
  credential: [string, string] | null;
}

export function makeUpstream(host: string, port: number, settings: HttpDeviceSettings, timeoutMs: number): Upstream {
  const origin = `${settings.scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const dflt = settings.scheme === 'https' ? 443 : 80;
  let connect: buildConnector.connector | undefined;
  if (settings.scheme === 'https') {
    const tls = settings.tls;
    const base = buildConnector({ rejectUnauthorized: tls.mode === 'verify' });
    if (tls.mode === 'pin')
      connect = (opts, cb) =>
        base(opts, (err, sock) => {
          if (err || !sock) return cb(err ?? new Error('no socket'), null);
          const fp = (sock as TLSSocket).getPeerCertificate?.()?.fingerprint256?.replace(/:/g, '').toUpperCase();
          if (fp !== tls.sha256) {
            sock.destroy();
            const e = new Error('the device presented a certificate that does not match its pinned SHA-256') as Error & { code: string };
            e.code = 'GH_PIN_MISMATCH';
            return cb(e, null);
          }
          cb(null, sock);
        });
    else connect = base;
  }
  const pool = new Pool(origin, {
    connections: 128,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: timeoutMs,
    bodyTimeout: 0,
    connect,
  });
  return { pool, origin, hostHeader: port === dflt ? host : `${host}:${port}` };
}

/** The request headers for the device. */
export function upstreamHeaders(req: IncomingMessage, t: ForwardTarget): Record<string, string | string[]> {
  const src: IncomingHttpHeaders = req.headers;
  const out: Record<string, string | string[]> = {};
  const conn = src.connection;
  const listed =
    conn && conn !== 'keep-alive' && conn !== 'close'
      ? new Set(
          conn
            .toLowerCase()
            .split(',')
            .map((x) => x.trim()),
        )
      : null;
  for (const k in src) {
    if (HOP.has(k) || (listed && listed.has(k))) continue;
    const v = src[k];
    if (v === undefined) continue;
    if (k === 'cookie') {
      const c = stripOwnCookies(v as string);
      if (c !== null) out.cookie = c;
      continue;
    }
    out[k] = v;
  }
  out.host = t.upstream.hostHeader;
  // Only what this proxy saw: a client-sent X-Forwarded-For is dropped, not extended.
  out['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  out['x-forwarded-host'] = t.publicHost;
  out['x-forwarded-proto'] = t.publicProto;
  if (t.credential) {
    out[t.credential[0]] = t.credential[1];
    // The answer must be readable to be scanned, and whole: a byte range could return the secret in pieces.
    out['accept-encoding'] = 'identity';
    delete out.range;
    delete out['if-range'];
    delete out['sec-websocket-extensions'];
  }
  return out;
}

/** Rewrites a Location that points at the device so the browser stays on the proxy. */
export function rewriteLocation(loc: string, t: ForwardTarget): string {
  const u = t.upstream;
  for (const o of [u.origin, `${u.origin.split('://')[0]}://${u.hostHeader}`])
    if (loc === o || loc.startsWith(o + '/') || loc.startsWith(o + '?')) return t.publicOrigin + loc.slice(o.length);
  return loc;
}

/**
 * The response headers for the client, from undici's raw list ([name, value, name, value...] as bytes),
 * as the flat array `writeHead` takes: hop-by-hop ones dropped (and any the device's Connection header
 * names), Location rewritten back to the proxy, and no Set-Cookie that would overwrite the proxy's own.
 */
export function responseHeaders(raw: Buffer[], t: ForwardTarget): string[] {
  const out: string[] = [];
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toString('latin1').toLowerCase() === 'connection') {
      const v = raw[i + 1].toString('latin1').toLowerCase();
      if (v !== 'keep-alive' && v !== 'close') for (const x of v.split(',')) (listed ??= new Set()).add(x.trim());
    }
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const k = name.toLowerCase();
    if (HOP_RESPONSE.has(k) || (listed !== null && listed.has(k))) continue;
    const v = raw[i + 1].toString('latin1');
    if (k === 'location') out.push(name, rewriteLocation(v, t));
    else if (k === 'set-cookie') {
      if (!/^\s*__gh_http=/i.test(v)) out.push(name, v);
    } else out.push(name, v);
  }
  return out;
}

export type UpstreamFailure = 'down' | 'timeout' | 'tls';

export function classify(err: unknown): UpstreamFailure {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'GH_PIN_MISMATCH' || code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
    return 'tls';
  return 'down';
}

/**
 * Streams one request to the device and the answer back. `onFail` runs when the device could not answer
 * before the response started (the caller shows a 502/504 page); after that, the client connection is cut.
 *
 * A dispatch handler of undici's, not `Pool.stream`: the response goes straight from undici's parser into
 * the client's response, with backpressure (a full client pauses the device's connection), without the
 * per-request stream plumbing `stream()` adds (CPU per request: docs/benchmarks.md).
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  t: ForwardTarget,
  onFail: (kind: UpstreamFailure, err: unknown) => void,
  onDone: () => void,
): void {
  const method = req.method ?? 'GET';
  // TRACE and TRACK echo the request, injected credential included: the gateway answers them itself.
  if (method === 'TRACE' || method === 'TRACK') {
    res.writeHead(405, {
      allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      'content-type': 'text/plain; charset=utf-8',
      'content-length': 17,
    });
    res.end('405 Not Allowed\n\n');
    return onDone();
  }
  const hasBody =
    req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  t.upstream.pool.dispatch(
    {
      origin: t.upstream.origin,
      path: req.url ?? '/',
      method: method as Dispatcher.HttpMethod,
      headers: upstreamHeaders(req, t),
      body: hasBody ? upstreamBody(req) : null,
    },
    new ForwardHandler(res, t, method === 'HEAD', onFail, onDone),
  );
}

class ForwardHandler implements Dispatcher.DispatchHandlers {
  private abort: ((err?: Error) => void) | null = null;
  private finished = false;
  private resume: (() => void) | null = null;
  /** Set for a device with an injected credential: the body goes through the scanner. */
  private body: ScrubbedBody | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly t: ForwardTarget,
    private readonly head: boolean,
    private readonly onFail: (kind: UpstreamFailure, err: unknown) => void,
    private readonly onDone: () => void,
  ) {
    // The client went away (or the session was cut) before the device finished: stop the device's side.
    res.once('close', () => {
      if (!this.finished) this.abort?.(new Error('the client closed the connection'));
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.res.destroyed) abort(new Error('the client closed the connection'));
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void): boolean {
    // 1xx (100 Continue, 103 Early Hints): Node answers Expect itself; the final status follows.
    if (statusCode < 200) return true;
    this.resume = resume;
    if (this.t.credential) {
      const h = this.scrubbed(statusCode, headers);
      if (h === null) return false;
      headers = h;
    }
    try {
      this.res.writeHead(statusCode, responseHeaders(headers, this.t));
    } catch (err) {
      // A header Node will not send (undici's parser let it through): the device's answer is unusable.
      this.abort?.(err as Error);
      return false;
    }
    return true;
  }

  /** Headers with the secret masked, and the body scanner set up; null when the answer is refused. */
  private scrubbed(statusCode: number, headers: Buffer[]): Buffer[] | null {
    const forms = secretForms(this.t.credential!);
    const coding = codingOf(headers);
    // Nothing asked for a range or a coding it cannot decode: fail closed rather than pass unscanned bytes.
    if (coding === 'refuse' || statusCode === 206) {
      const e = new Error(
        statusCode === 206
          ? 'the device answered a range nobody asked for'
          : 'the device answered with a content coding the gateway cannot scan',
      ) as Error & { code: string };
      e.code = 'GH_UNSCANNABLE';
      this.abort?.(e);
      return null;
    }
    const out = scrubRawHeaders(coding ? withoutCoding(headers) : headers, forms);
    const empty = this.head || statusCode === 204 || statusCode === 304;
    if (!empty)
      this.body = new ScrubbedBody(
        this.res,
        forms,
        coding,
        () => this.resume?.(),
        (err) => this.cut(err),
      );
    return out;
  }

  private cut(err: Error): void {
    this.finished = true;
    this.abort?.(err);
    this.res.destroy();
    this.done();
  }

  private ended = false;
  private readonly done = () => {
    if (this.ended) return;
    this.ended = true;
    this.onDone();
  };

  onData(chunk: Buffer): boolean {
    if (this.body) return this.body.write(chunk);
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.drained);
    return false;
  }

  private readonly drained = () => this.resume?.();

  onComplete(): void {
    this.finished = true;
    if (this.body) return this.body.end(this.done);
    this.res.end();
    this.onDone();
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.res.headersSent) this.onFail(classify(err), err);
    else this.res.destroy();
    this.done();
  }
}

/** A websocket (or any Upgrade) passed through: the 101 is relayed, then bytes flow both ways with pipe. */
export async function forwardUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  t: ForwardTarget,
  track: (s: Duplex) => void,
): Promise<void> {
  const headers = upstreamHeaders(req, t);
  const proto = String(req.headers.upgrade ?? 'websocket');
  // Only websocket frames can be scanned for the secret: other upgrades to such a device are refused.
  if (t.credential && proto.toLowerCase() !== 'websocket')
    return void client.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  let up: { headers: Record<string, string | string[] | undefined>; socket: Duplex };
  try {
    up = (await t.upstream.pool.upgrade({
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      protocol: proto,
    })) as typeof up;
  } catch (err) {
    const kind = classify(err);
    client.end(
      `HTTP/1.1 ${kind === 'timeout' ? '504 Gateway Timeout' : '502 Bad Gateway'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
    );
    return;
  }
  const lines = ['HTTP/1.1 101 Switching Protocols', 'connection: Upgrade', `upgrade: ${proto}`];
  const forms = t.credential ? secretForms(t.credential) : null;
  for (const [k, v] of Object.entries(up.headers)) {
    if (v === undefined || k === 'connection' || k === 'upgrade') continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      if (/[\r\n]/.test(one)) continue;
      if (forms === null) lines.push(`${k}: ${one}`);
      else {
        const [name, value] = scrubRawHeaders([Buffer.from(k, 'latin1'), Buffer.from(one, 'latin1')], forms);
        if (name) lines.push(`${k}: ${value.toString('latin1')}`);
      }
    }
  }
  client.write(lines.join('\r\n') + '\r\n\r\n');
  if (head.length) up.socket.write(head);
  const end = () => {
    client.destroy();
    up.socket.destroy();
  };
  client.on('error', end).on('close', end);
  up.socket.on('error', end).on('close', end);
  track(client);
  track(up.socket);
  client.pipe(up.socket);
  if (forms === null) return void up.socket.pipe(client);
  // The device's frames are scanned too; anything that cannot be parsed ends the connection.
  const frames = new FrameScrubber(forms);
  up.socket.on('data', (d: Buffer) => {
    let out: Buffer;
    try {
      out = frames.push(d);
    } catch {
      return end();
    }
    if (out.length && !client.write(out)) {
      up.socket.pause();
      client.once('drain', () => up.socket.resume());
    }
  });
  up.socket.on('end', () => client.end());
}
