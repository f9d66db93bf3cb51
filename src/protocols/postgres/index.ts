// PostgreSQL listener (GATEHOUSE_POSTGRES_PORT): stock psql and drivers connect with the target in the
// user name (alice@pgdb01, alice@app_rw@pgdb01), wait for approval, and every statement is audited.
// Split by job: client.ts (handshake), login.ts, wait.ts (the gate's face), upstream.ts (the device
// login), relay.ts with scanner.ts and audit.ts, wire.ts (messages).
import { listenOrStayOff } from '../listen.js';
import { connect as tcpConnect, createServer, type Server } from 'node:net';
import type { Services } from '../../services.js';
import { StatementWriter } from '../db-common/statement-writer.js';
import { lazyDbTls } from '../db-common/tls.js';
import { handleClient, type PgState } from './connection.js';
import { cancelRequest } from './wire.js';

export interface PgListener {
  port: number;
  /** Statements dropped by the audit queue since start (for tests and metrics). */
  writer: StatementWriter;
  close(): Promise<void>;
}

/** Connections still in their handshake or wait; past this, new ones are refused (a flood costs nothing). */
const MAX_CLIENTS = 2000;

export async function startPostgresListener(s: Services): Promise<PgListener | null> {
  const g: PgState = {
    s,
    tls: lazyDbTls(s.config),
    writer: new StatementWriter(s.statements, s.log),
    cancels: new Map(),
    live: new Set(),
    relays: new Map(),
    forwardCancel(pid, secret) {
      const t = g.cancels.get(`${pid}:${secret}`);
      if (!t) return;
      const up = tcpConnect({ host: t.host, port: t.port }, () => up.end(cancelRequest(t.pid, t.secret)));
      up.on('error', () => {});
      up.setTimeout(10_000, () => up.destroy());
    },
  };
  const server: Server = createServer((sock) => {
    if (g.live.size >= MAX_CLIENTS) return void sock.destroy();
    void handleClient(g, sock);
  });
  const port = await listenOrStayOff(s, server, {
    name: 'postgres',
    port: s.config.postgresPort,
    refused:
      'postgres listener could not listen (port busy or not allowed): PostgreSQL access is off; set GATEHOUSE_POSTGRES_PORT to a free port',
  });
  if (port === null) return null;
  s.log.info({ postgres: `${s.config.bind}:${port}` }, 'postgres listener listening');
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
