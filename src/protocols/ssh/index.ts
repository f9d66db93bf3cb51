// SSH/SFTP proxy entry point: stock OpenSSH clients log in here (`ssh -p 2222 alice@web01@gateway`),
// their connection waits for approval when the policy asks for it, then is relayed to the device.
// The path of one connection: this listener -> login.ts (authentication; target.ts parses the
// username) -> connection.ts (its channels; menu.ts when no target was named) -> session.ts: the gate
// (gate.ts renders core/access, waitview.ts shows the wait) -> upstream.ts (the device login) ->
// relay.ts (with sftp-audit.ts) -> the session's end. forwarding.ts carries ssh -L.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Services } from '../../services.js';
import { ProxyConnection } from './connection.js';
import { UpstreamPool } from './upstream-pool.js';
import { disconnectWithMessage } from './disconnect.js';
import { loadHostKeys } from './hostkeys.js';
import { Login } from './login.js';
import { tuneSocket } from './socket.js';

export interface Listener {
  port: number;
  close(): Promise<void>;
}

/** Connections that have not logged in within this time are dropped. */
const LOGIN_GRACE_MS = 120_000;
/**
 * A keepalive to each client every minute; three unanswered end the connection (a dead peer goes within
 * about 4 minutes). ssh2's default, every 15 s, was most of the gateway's idle CPU with 10,000 waits.
 */
const CLIENT_KEEPALIVE_MS = 60_000;
const CLIENT_KEEPALIVE_MAX = 3;

export async function startSshProxy(s: Services): Promise<Listener | null> {
  const hostKeys = loadHostKeys(s.config.dataDir);
  const live = new Set<ProxyConnection>();
  const pool = new UpstreamPool();

  const server = new ssh2.Server(
    { hostKeys, ident: 'Gatehouse', keepaliveInterval: CLIENT_KEEPALIVE_MS, keepaliveCountMax: CLIENT_KEEPALIVE_MAX },
    (client, info) => {
      const addr = info.ip ?? 'unknown';
      let grace: NodeJS.Timeout | undefined;
      // A login through a console link may wait at its prompt for as long as the link lives.
      const allow = (wanted: number) => {
        const ms = Math.max(wanted, LOGIN_GRACE_MS);
        clearTimeout(grace);
        grace = setTimeout(() => {
          if (!client.authenticated) client.end();
        }, ms);
        grace.unref();
        (client as unknown as { _sock?: Socket })._sock?.setTimeout?.(ms);
      };
      const login = new Login(s, addr, (text) => disconnectWithMessage(client, text), allow);
      const c = new ProxyConnection(s, client, addr, login, pool);
      live.add(c);
      allow(LOGIN_GRACE_MS);
      client.on('close', () => {
        clearTimeout(grace);
        live.delete(c);
      });
    },
  );
  server.on('error', (err: Error) => s.log.warn({ err: String(err) }, 'ssh server error'));

  const sockets = new Set<Socket>();
  const tcp: NetServer = createServer((sock) => {
    tuneSocket(sock);
    sock.on('error', () => {});
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    // A socket that says nothing (not even the SSH banner) is dropped; logged-in connections are never
    // idle this long (the server pings every 15 s).
    sock.setTimeout(LOGIN_GRACE_MS, () => sock.destroy());
    server.injectSocket(sock);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(s.config.sshPort, s.config.bind, () => {
      tcp.removeListener('error', reject);
      resolve();
    });
  });
  tcp.on('error', (err) => s.log.warn({ err: String(err) }, 'ssh listener error'));
  const addr = tcp.address();
  const port = typeof addr === 'object' && addr ? addr.port : s.config.sshPort;
  s.log.info({ ssh: `${s.config.bind}:${port}` }, 'ssh proxy listening');

  return {
    port,
    async close() {
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        // Live connections keep tcp.close() waiting: end them with a message, then drop what is left
        // (sockets that never logged in).
        void Promise.allSettled([...live].map((c) => c.shutdown('the gateway is shutting down'))).then(() => {
          for (const sock of sockets) sock.destroy();
        });
      });
    },
  };
}
