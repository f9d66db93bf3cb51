// The HTTP proxy's own settings, read once from the environment (DESIGN.md's variables stay in
// src/config/env.ts). Every variable is documented in docs/http.md.
import { readFileSync } from 'node:fs';

export interface HttpProxyConfig {
  /** Devices are served on `<device>.<baseDomain>`. */
  baseDomain: string;
  /** TLS on the proxy listener, when both files are set. */
  tls: { cert: Buffer; key: Buffer } | null;
  /** The port users' browsers see (a load balancer may sit in front); default: the listening port. */
  publicPort: number | null;
  /** Upstream response-header timeout, ms: past it the user gets a 504 page. */
  upstreamTimeoutMs: number;
  /** A session without a grant (no approval needed) ends after this long without a request, ms. */
  idleMs: number;
}

const HOST_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function httpProxyConfig(env: NodeJS.ProcessEnv = process.env): HttpProxyConfig {
  const baseDomain = (env.GATEHOUSE_HTTP_BASE_DOMAIN || 'localhost').toLowerCase().replace(/^\.+|\.+$/g, '');
  if (!HOST_RE.test(baseDomain)) throw new Error(`GATEHOUSE_HTTP_BASE_DOMAIN: '${baseDomain}' is not a domain name`);
  const certFile = env.GATEHOUSE_HTTP_TLS_CERT;
  const keyFile = env.GATEHOUSE_HTTP_TLS_KEY;
  if (!!certFile !== !!keyFile) throw new Error('GATEHOUSE_HTTP_TLS_CERT and GATEHOUSE_HTTP_TLS_KEY go together: set both or neither');
  const int = (name: string, def: number, min: number, max: number) => {
    const v = env[name];
    if (v === undefined || v === '') return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: must be an integer from ${min} to ${max}`);
    return n;
  };
  return {
    baseDomain,
    tls: certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : null,
    publicPort: env.GATEHOUSE_HTTP_PUBLIC_PORT ? int('GATEHOUSE_HTTP_PUBLIC_PORT', 0, 1, 65535) : null,
    upstreamTimeoutMs: int('GATEHOUSE_HTTP_UPSTREAM_TIMEOUT_MS', 30_000, 100, 600_000),
    idleMs: int('GATEHOUSE_HTTP_IDLE_MINUTES', 30, 1, 10_080) * 60_000,
  };
}

/** Where the proxy is reachable, as the console's login hand-off needs it (set when the proxy listens). */
export interface ProxyOrigin {
  scheme: 'http' | 'https';
  baseDomain: string;
  port: number;
}

const origins = new WeakMap<object, ProxyOrigin>();
export const setProxyOrigin = (s: object, o: ProxyOrigin) => origins.set(s, o);
export const proxyOrigin = (s: object): ProxyOrigin | undefined => origins.get(s);

/** `http://web01.localhost:8081` */
export function deviceOrigin(o: ProxyOrigin, device: string): string {
  const dflt = o.scheme === 'https' ? 443 : 80;
  return `${o.scheme}://${device}.${o.baseDomain}${o.port === dflt ? '' : `:${o.port}`}`;
}

/** The device named by a Host header, or null when the host is not `<device>.<baseDomain>[:port]`. */
export function deviceOfHost(host: string | undefined, baseDomain: string): string | null {
  if (!host || host.length > 300) return null;
  const h = host.toLowerCase().replace(/:\d{1,5}$/, '');
  const suffix = `.${baseDomain}`;
  if (!h.endsWith(suffix)) return null;
  const name = h.slice(0, -suffix.length);
  return /^[a-z0-9][a-z0-9_-]{0,62}$/.test(name) ? name : null;
}
