// Where the HTTP proxy is reachable and which device a Host names. Its settings are in src/config/http.ts;
// every variable is documented in docs/http.md.

export { httpProxyConfig, type HttpProxyConfig } from '../../config/http.js';

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
