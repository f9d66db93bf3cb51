// HTTP proxy entry point: device web consoles on `<device>.<base domain>`, behind login, the approval
// gate and credential injection. Split by job: config.ts (settings), auth.ts (login token and cookie),
// devices.ts (per-device options), requests.ts (each request and upgrade), gate.ts (decide and the
// per-session state), wait.ts (waiting page and SSE), forward.ts (the proxying itself), pages.ts (what
// the proxy shows).
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Services } from '../../services.js';
import { vaultKey } from '../../services.js';
import { CookieSigner, LoginTokens } from './auth.js';
import { httpProxyConfig, setProxyOrigin, type HttpProxyConfig, type ProxyOrigin } from './config.js';
import { DeviceSettingsCache } from './devices.js';
import { Gate, type Access } from './gate.js';
import { ProxyRequests } from './requests.js';
import { Waiter } from './wait.js';

export { httpProxyConfig, proxyOrigin, deviceOrigin } from './config.js';
export { LoginTokens } from './auth.js';
export { mayOpen } from './gate.js';

export interface HttpProxy {
  port: number;
  close(): Promise<void>;
}

/** What a client connection may have waiting to be sent before the device's side is paused. */
export const CLIENT_BUFFER_BYTES = 256 * 1024;

export async function startHttpProxy(s: Services): Promise<HttpProxy | null> {
  // Invalid settings stop the start (naming the variable), as for every other variable.
  const cfg: HttpProxyConfig = httpProxyConfig(s.config.http);
  const scheme = cfg.tls ? 'https' : 'http';
  let origin: ProxyOrigin = { scheme, baseDomain: cfg.baseDomain, port: cfg.publicPort ?? s.config.httpProxyPort };
  const signer = new CookieSigner(vaultKey(s.config));
  const tokens = new LoginTokens(s.httpLoginTokens, () => s.clock.now());
  const gate = new Gate(s, cfg, () => origin, new DeviceSettingsCache(s.deviceOptions));
  const waiter = new Waiter(s);
  const stats = new StatsWriter(s);
  const requests = new ProxyRequests({ s, cfg, scheme, signer, tokens, gate, waiter });

  const server = createProxyServer(cfg, requests);
  if (!(await listen(s, server))) return null;
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

function createProxyServer(cfg: HttpProxyConfig, requests: ProxyRequests): Server {
  // A 256 KiB write buffer per client connection before backpressure (Node's default is 16 KiB), so a
  // 64 KiB answer does not pause and resume the device's connection several times (docs/benchmarks.md).
  const opts = { highWaterMark: CLIENT_BUFFER_BYTES };
  const server: Server = cfg.tls
    ? createHttpsServer({ ...opts, cert: cfg.tls.cert, key: cfg.tls.key }, requests.onRequest)
    : createHttpServer(opts, requests.onRequest);
  server.keepAliveTimeout = 65_000;
  server.on('upgrade', requests.onUpgrade);
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    const body = `${status}\n`;
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  });
  return server;
}

/** Listens on the configured port; false (logged) when the port is busy or not allowed, so the proxy stays off. */
async function listen(s: Services, server: Server): Promise<boolean> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(s.config.httpProxyPort, s.config.bind, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    s.log.error(
      { http: `${s.config.bind}:${s.config.httpProxyPort}`, err: String(err) },
      'http proxy could not listen (port busy or not allowed): the HTTP proxy is off; set GATEHOUSE_HTTP_PROXY_PORT to a free port',
    );
    return false;
  }
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
      for (const a of [...accesses]) {
        if (!a.dirty || a.sessionId === null) continue;
        a.dirty = false;
        await this.s.httpSessionStats.save(a.sessionId, { requests: a.requests, firstRequestAt: a.firstAt, lastRequestAt: a.lastAt });
      }
    } catch (err) {
      this.s.log.warn({ err: String(err) }, 'http session figures could not be written; will retry');
    } finally {
      this.busy = false;
    }
  }
}
