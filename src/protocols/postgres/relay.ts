// Copies bytes both ways between the client and the device, with backpressure (a side that cannot keep
// up pauses the other), counting bytes and feeding the audit's scanners. close() ends the session with
// an ErrorResponse the client shows, when the server->client stream is between messages.
import type { Sock } from './io.js';
import { MessageScanner } from './scanner.js';
import { errorResponse, ProtocolError } from './wire.js';

export interface Relay {
  finished: Promise<string>;
  close(reason: string): void;
  bytes(): { in: number; out: number };
}

export interface RelaySides {
  client: Sock;
  upstream: Sock;
  toUpstream: MessageScanner;
  toClient: MessageScanner;
  /** Bytes the client sent past the handshake, for the device. */
  pending: Buffer;
}

export function relay(r: RelaySides): Relay {
  let bytesIn = 0;
  let bytesOut = 0;
  let done = false;
  let resolve!: (why: string) => void;
  const finished = new Promise<string>((res) => (resolve = res));
  const end = (why: string) => {
    if (done) return;
    done = true;
    r.client.destroy();
    r.upstream.destroy();
    resolve(why);
  };
  const pipe = (from: Sock, to: Sock, scan: MessageScanner, count: (n: number) => void, side: string) => {
    from.on('data', (chunk: Buffer) => {
      try {
        scan.feed(chunk);
      } catch (err) {
        return end(err instanceof ProtocolError ? `${side} broke the protocol: ${err.message}` : String(err));
      }
      count(chunk.length);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => end(side === 'client' ? 'client disconnected' : 'the device closed the connection'));
    from.on('close', () => end(side === 'client' ? 'client disconnected' : 'the device closed the connection'));
    from.on('error', (err) => end(`${side} connection error: ${err.message}`));
  };
  pipe(r.client, r.upstream, r.toUpstream, (n) => (bytesIn += n), 'client');
  pipe(r.upstream, r.client, r.toClient, (n) => (bytesOut += n), 'device');
  if (r.pending.length) {
    try {
      r.toUpstream.feed(r.pending);
      bytesIn += r.pending.length;
      r.upstream.write(r.pending);
    } catch (err) {
      end(`client broke the protocol: ${(err as Error).message}`);
    }
  }
  r.client.resume();
  r.upstream.resume();
  return {
    finished,
    bytes: () => ({ in: bytesIn, out: bytesOut }),
    close(reason: string) {
      if (done) return;
      // Only between messages can the gateway speak without corrupting what the client reads.
      if (r.toClient.atBoundary() && r.client.writable) r.client.write(errorResponse('57P01', `Gatehouse: ${reason}`));
      done = true;
      r.upstream.destroy();
      r.client.end();
      // The error goes out with end(); a client that does not read it is cut off anyway.
      setTimeout(() => r.client.destroy(), 200).unref();
      resolve(reason);
    },
  };
}
