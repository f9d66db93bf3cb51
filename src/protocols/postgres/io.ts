// Awaitable frame reads on a socket during a handshake (client side and upstream side). After the
// handshake the socket is detached and handed to the relay together with the bytes read past it.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { FrameReader, ProtocolError } from './wire.js';

export type Sock = Socket | TLSSocket;

export class FrameIO {
  readonly frames = new FrameReader();
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private readonly onData = (b: Buffer) => {
    this.frames.push(b);
    this.wake?.();
  };
  private readonly onEnd = (err?: Error) => {
    this.failure ??= err instanceof Error ? err : new ProtocolError('the connection closed');
    this.wake?.();
  };

  constructor(public sock: Sock) {
    this.attach(sock);
  }

  attach(sock: Sock): void {
    this.sock = sock;
    sock.on('data', this.onData);
    sock.on('error', this.onEnd);
    sock.on('close', this.onEnd);
    sock.on('end', this.onEnd);
    sock.resume();
  }

  /** Stops reading (for a TLS upgrade or the relay); a late error on the socket is still swallowed. */
  detach(): void {
    this.sock.off('data', this.onData);
    this.sock.off('close', this.onEnd);
    this.sock.off('end', this.onEnd);
    this.sock.pause();
  }

  /** Waits until `take` yields a frame; throws on close, on a protocol error, or after `ms`. */
  async next<T>(take: (r: FrameReader) => T | null, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = take(this.frames);
      if (v !== null) return v;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new ProtocolError(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }
}
