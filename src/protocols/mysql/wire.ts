// One leg's packet exchange while logging in: awaitable reads with a size cap and a deadline, writes,
// and the switch to TLS. After the login the relay takes the raw socket over (release()).
import type { Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect, type ConnectionOptions, type SecureContext } from 'node:tls';
import { encodePacket, PacketReader, ProtocolError, type Packet } from './packets.js';

export class Wire {
  private reader: PacketReader;
  private waiter: { resolve: (p: Packet) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (b: Buffer) => this.fed(b);
  private readonly onEnd = () => this.fail(new ProtocolError('connection closed'));
  private readonly onError = (e: Error) => this.fail(e);
  /** The sequence id of the next packet this side writes. */
  seq = 0;

  constructor(
    public sock: Socket,
    max: number,
  ) {
    this.reader = new PacketReader(max);
    this.attach();
  }

  get encrypted(): boolean {
    return this.sock instanceof TLSSocket;
  }

  private attach(): void {
    this.sock.on('data', this.onData);
    this.sock.on('end', this.onEnd);
    this.sock.on('close', this.onEnd);
    this.sock.on('error', this.onError);
  }

  private detach(): void {
    this.sock.off('data', this.onData);
    this.sock.off('end', this.onEnd);
    this.sock.off('close', this.onEnd);
    this.sock.off('error', this.onError);
  }

  private fed(b: Buffer): void {
    this.reader.push(b);
    this.pump();
  }

  private pump(): void {
    if (!this.waiter) return;
    let p: Packet | null;
    try {
      p = this.reader.next();
    } catch (e) {
      return this.fail(e as Error);
    }
    if (!p) return;
    const w = this.waiter;
    this.waiter = null;
    this.seq = (p.seq + 1) & 0xff;
    w.resolve(p);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(this.failure);
  }

  /** The next logical packet; rejects on close, an oversized packet or after `ms`. */
  read(ms: number): Promise<Packet> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Packet>((resolve, reject) => {
      const t = setTimeout(() => this.fail(new ProtocolError('timed out')), ms);
      t.unref();
      this.waiter = {
        resolve: (p) => {
          clearTimeout(t);
          resolve(p);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      this.pump();
    });
  }

  write(payload: Buffer): void {
    const b = encodePacket(this.seq, payload);
    this.seq = (this.seq + Math.max(1, Math.ceil((payload.length + 1) / 0xffffff))) & 0xff;
    if (!this.sock.destroyed) this.sock.write(b);
  }

  /**
   * Server side of the TLS switch. The server says nothing after an SSLRequest, so bytes already read
   * past it are the client's TLS handshake: they go back to the stream the TLS socket reads.
   */
  async startServerTls(context: SecureContext, ms: number): Promise<void> {
    const early = this.reader.drain();
    this.detach();
    this.sock.pause();
    if (early.length) this.sock.unshift(early);
    const tls = new TLSSocket(this.sock, { isServer: true, secureContext: context });
    await handshake(tls, 'secure', ms);
    this.sock = tls;
    this.attach();
  }

  /** Client side of the TLS switch (to a device). */
  async startClientTls(opts: ConnectionOptions, ms: number): Promise<TLSSocket> {
    if (this.reader.pending() > 0) throw new ProtocolError('data before TLS');
    this.detach();
    const tls = tlsConnect({ ...opts, socket: this.sock });
    await handshake(tls, 'secureConnect', ms);
    this.sock = tls;
    this.attach();
    return tls;
  }

  /** Hands the socket to the relay: listeners off, and any bytes read past the last packet. */
  release(): { sock: Socket; rest: Buffer } {
    this.detach();
    this.sock.on('error', () => {});
    return { sock: this.sock, rest: this.reader.drain() };
  }

  destroy(): void {
    this.detach();
    this.sock.on('error', () => {});
    this.sock.destroy();
  }

  /** Writes a last packet and closes once it is flushed. */
  endWith(payload: Buffer): void {
    const b = encodePacket(this.seq, payload);
    this.detach();
    this.sock.on('error', () => {});
    if (this.sock.destroyed) return;
    this.sock.end(b);
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }
}

function handshake(tls: TLSSocket, event: 'secure' | 'secureConnect', ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      tls.destroy();
      reject(new ProtocolError('TLS handshake timed out'));
    }, ms);
    t.unref();
    tls.once(event, () => {
      clearTimeout(t);
      tls.off('error', onErr);
      resolve();
    });
    const onErr = (e: Error) => {
      clearTimeout(t);
      reject(e);
    };
    tls.once('error', onErr);
  });
}
