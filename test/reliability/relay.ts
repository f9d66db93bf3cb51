// A TCP relay in front of a real server (SMTP sink, Dovecot) on a fixed 127.0.0.1 port, for fault tests:
// `delayMs` holds every chunk that long each way (a slow link); down() closes the listener and cuts every
// relayed connection (connection refused, as when the server is stopped); up() listens again on the same port.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Relay {
  port: number;
  delayMs: number;
  /** Connections accepted so far. */
  accepted: number;
  down(): Promise<void>;
  up(): Promise<void>;
  stall(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startRelay(target: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const dead = new WeakSet<Socket>();
  let stalled = false;
  let server: Server | null = null;
  const relay: Relay = {
    port: 0,
    delayMs: 0,
    accepted: 0,
    async down() {
      const srv = server;
      server = null;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (srv) await new Promise<void>((r) => srv.close(() => r()));
    },
    async up() {
      if (server) return;
      const srv = createServer((client) => {
        relay.accepted++;
        const up = connect(target, '127.0.0.1');
        sockets.add(client).add(up);
        if (stalled) dead.add(client).add(up);
        const pipe = (from: Socket, to: Socket) =>
          from.on('data', (d) => {
            if (dead.has(from)) return;
            from.pause();
            setTimeout(() => {
              if (!to.destroyed) to.write(d);
              from.resume();
            }, relay.delayMs);
          });
        pipe(client, up);
        pipe(up, client);
        const close = () => {
          client.destroy();
          up.destroy();
          sockets.delete(client);
          sockets.delete(up);
        };
        client.on('close', close).on('error', close);
        up.on('close', close).on('error', close);
      });
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(relay.port, '127.0.0.1', () => resolve());
      });
      relay.port = (srv.address() as { port: number }).port;
      server = srv;
    },
    stall() {
      stalled = true;
      for (const s of sockets) dead.add(s);
    },
    heal() {
      stalled = false;
    },
    close: () => relay.down(),
  };
  await relay.up();
  return relay;
}
