// The HTTP proxy's settings from the validated config (env.ts checks every variable); the TLS files are
// read at start, and a file that cannot be read stops the start naming its variable.
import { readFileSync } from 'node:fs';
import { ConfigError, type HttpSettings } from './env.js';

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
      throw new ConfigError(
        `invalid configuration:\n  ${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
  };
  return {
    baseDomain: c.baseDomain,
    tls:
      c.tlsCertFile && c.tlsKeyFile
        ? { cert: read('GATEHOUSE_HTTP_TLS_CERT', c.tlsCertFile), key: read('GATEHOUSE_HTTP_TLS_KEY', c.tlsKeyFile) }
        : null,
    publicPort: c.publicPort,
    upstreamTimeoutMs: c.upstreamTimeoutMs,
    idleMs: c.idleMs,
  };
}
