// MySQL/MariaDB gateway entry point. Stock clients dial GATEHOUSE_MYSQL_PORT as `user@device` (or
// `user@account@device`) over TLS; the login is held while an approval waits, then relayed to the device
// with the vaulted account, every statement audited. Split by job: packets.ts and wire.ts (framing),
// handshake.ts, login.ts and auth.ts (the user), gate.ts (access), upstream.ts (the device), relay.ts,
// tap.ts, statements.ts and responses.ts (the audit), connection.ts (one client).
import { createServer, type Server } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Services } from '../../services.js';
import { StatementWriter } from '../db-common/statement-writer.js';
import { lazyDbTls } from '../db-common/tls.js';
import { handleClient, type MysqlState } from './connection.js';

export interface MysqlGateway {
  port: number;
  writer: StatementWriter;
  close(): Promise<void>;
}

export interface MysqlOptions {
  /** Default: the database listeners' pair (GATEHOUSE_DB_TLS_CERT/KEY, or the self-signed one). */
  tls?: SecureContext;
  writer?: StatementWriter;
  /** How long a login is held for an approval (default: 5 minutes) before the client hears the request number. */
  holdMs?: number;
}

/** Clients give up on a silent login after their own timeouts; 5 minutes stays under the usual ones. */
export const DEFAULT_HOLD_MS = 5 * 60_000;
const PACKET_MS = 10_000;

export async function startMysqlGateway(s: Services, o: MysqlOptions = {}): Promise<MysqlGateway | null> {
  const g: MysqlState = {
    s,
    tls: o.tls ? () => o.tls! : lazyTls(s),
    writer: o.writer ?? new StatementWriter(s.statements, s.log),
    live: new Set(),
    relays: new Map(),
    pending: 0,
    holdMs: o.holdMs ?? DEFAULT_HOLD_MS,
    packetMs: PACKET_MS,
  };
  const server: Server = createServer((sock) => handleClient(g, sock));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(s.config.mysqlPort, s.config.bind, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A busy or forbidden port must not take the other listeners down: MySQL stays off, loudly.
    const code = (err as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    s.log.error(
      { mysql: `${s.config.bind}:${s.config.mysqlPort}`, err: String(err) },
      'mysql gateway could not listen (port busy or not allowed): MySQL is off; set GATEHOUSE_MYSQL_PORT to a free port',
    );
    return null;
  }
  server.on('error', (err) => s.log.warn({ err: String(err) }, 'mysql listener error'));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : s.config.mysqlPort;
  // Port 0 (any free one): from now on the config says where MySQL clients connect.
  if (s.config.mysqlPort === 0) s.config.mysqlPort = port;
  s.log.info({ mysql: `${s.config.bind}:${port}` }, 'mysql gateway listening');
  return {
    port,
    writer: g.writer,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const sessions = [...g.relays.values()];
      for (const r of g.relays.keys()) r.close('the gateway is shutting down');
      for (const c of g.live) c.destroy();
      await Promise.all([closed, ...sessions]);
      await g.writer.flushed();
    },
  };
}

/** The shared pair, made on first use; a failure is logged and that client declined (not fatal). */
function lazyTls(s: Services): () => SecureContext {
  const get = lazyDbTls(s.config);
  return () => {
    try {
      return get();
    } catch (err) {
      s.log.error({ err: String(err) }, 'mysql: no TLS certificate (GATEHOUSE_DB_TLS_CERT/KEY, or openssl for a self-signed one)');
      throw err;
    }
  };
}
