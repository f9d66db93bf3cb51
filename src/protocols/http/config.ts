// The HTTP proxy's settings, from the one validated config (src/config/env.ts). Every variable is
// documented in docs/http.md.
import { readFileSync } from 'node:fs';
import { ConfigError, type HttpSettings } from '../../config/env.js';

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

/**
 * The proxy's settings from the validated config (src/config/env.ts checks every variable); the TLS
 * files are read here, at start, and a file that cannot be read stops the start naming its variable.
 */
export function httpProxyConfig(c: HttpSettings): HttpProxyConfig {
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  ${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  return {
    baseDomain: c.baseDomain,
    tls: c.tlsCertFile && c.tlsKeyFile ? { cert: read('GATEHOUSE_HTTP_TLS_CERT', c.tlsCertFile), key: read('GATEHOUSE_HTTP_TLS_KEY', c.tlsKeyFile) } : null,
    publicPort: c.publicPort,
    upstreamTimeoutMs: c.upstreamTimeoutMs,
    idleMs: c.idleMs,
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
