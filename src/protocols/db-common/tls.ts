// TLS for the database listeners: the operator's PEM files (GATEHOUSE_DB_TLS_CERT/KEY), or a self-signed
// pair made once in the data dir (mode 0600) so that sslmode=require / --ssl work out of the box.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Config } from '../../config/env.js';

/** The context, made on first use: a gateway nobody connects to over a database port never runs openssl. */
export function lazyDbTls(config: Config): () => SecureContext {
  let ctx: SecureContext | null = null;
  return () => (ctx ??= dbTlsContext(config));
}

export function dbTlsContext(config: Config): SecureContext {
  let certFile = config.db.tlsCertFile;
  let keyFile = config.db.tlsKeyFile;
  if (!certFile || !keyFile) {
    certFile = join(config.dataDir, 'db-tls-cert.pem');
    keyFile = join(config.dataDir, 'db-tls-key.pem');
    if (!existsSync(certFile) || !existsSync(keyFile)) selfSigned(certFile, keyFile);
  }
  return createSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' });
}

function selfSigned(certFile: string, keyFile: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=gatehouse-db',
    ].concat(['-keyout', keyFile, '-out', certFile]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  chmodSync(keyFile, 0o600);
}
