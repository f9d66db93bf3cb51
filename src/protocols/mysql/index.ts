// MySQL/MariaDB gateway entry point. Stock clients dial GATEHOUSE_MYSQL_PORT as `user@device` (or
// `user@account@device`) over TLS; the login is held while an approval waits, then relayed to the device
// with the vaulted account, every statement audited. Split by job: packets.ts and wire.ts (framing),
// handshake.ts, login.ts and auth.ts (the user), gate.ts (access), upstream.ts (the device), relay.ts,
// tap.ts, statements.ts and responses.ts (the audit), connection.ts (one client).
import { listenOrStayOff } from '../listen.js';
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
  const port = await listenOrStayOff(s, server, {
    name: 'mysql',
    port: s.config.mysqlPort,
    refused: 'mysql gateway could not listen (port busy or not allowed): MySQL is off; set GATEHOUSE_MYSQL_PORT to a free port',
  });
  if (port === null) return null;
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
