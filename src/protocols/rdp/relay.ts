// Byte relay between the RDP client and the device. TLS (and NLA) stay end to end: we only copy bytes.
// Byte counts come from the sockets' own counters, so nothing runs per chunk for bookkeeping.
//
// Both directions copy the way nginx's stream module does: read into a 64 KiB buffer, write it at once,
// read into it again once the write is done. The few buffers stay in the CPU's cache, and the kernel
// copies into memory it has touched before (a fresh buffer per read cost a page fault per 4 KiB).
// No `stream.pipeline()` on this hot path (figures: docs/benchmarks.md).
import { Socket, type OnReadOpts } from 'node:net';

export interface Relay {
  /** Writes `first` to the device, then copies both ways until either side closes. */
  start(first: Buffer): void;
  /** Ends both sides now (revocation, grant end, kill, shutdown). */
  close(reason: string): void;
  /** Client->device and device->client bytes so far (the rewritten request included). */
  bytes(): { in: number; out: number };
  /** Resolves once both sockets are closed, with why it ended. */
  finished: Promise<string>;
  /** Bytes waiting in the gateway to be written to each side. */
  queued(): { toDevice: number; toClient: number };
}

/** One read: nginx's proxy_buffer_size, and libuv's own read size. */
const CHUNK = 64 * 1024;
/** Bytes allowed to wait for the slower side before reading from the faster one pauses. */
export const RELAY_QUEUE_BYTES = 1 << 20;
const QUEUE = RELAY_QUEUE_BYTES;
/** Buffers kept for reuse per direction: what may wait, and the one being read into. */
const SPARE = QUEUE / CHUNK + 1;

/** A socket's reader (pass as `onread`): each read goes into a free buffer and is handed to `sink`. */
export interface Reader extends OnReadOpts {
  /** Where chunks go once the relay starts; before that they are kept. `done` runs once the chunk is written. */
  sink: ((chunk: Buffer, done: () => void) => boolean) | null;
  early: Buffer[];
  /** The write of a chunk finished: its buffer may be read into again. */
  written(chunk: Buffer): void;
}

export function reader(): Reader {
  // A buffer is read into again only once the chunk read into it has been written (the write callback
  // says so); a sync write (the usual case) calls back before the next read.
  const free: Uint8Array[] = [];
  const ours = new WeakSet<ArrayBufferLike>();
  let earlyBytes = 0;
  const r: Reader = {
    sink: null,
    early: [],
    written: (chunk) => {
      if (ours.has(chunk.buffer) && free.length < SPARE) free.push(new Uint8Array(chunk.buffer, 0, CHUNK));
    },
    buffer: () => {
      const b = free.pop();
      if (b) return b;
      const fresh = new Uint8Array(CHUNK);
      ours.add(fresh.buffer);
      return fresh;
    },
    callback: (n: number, buf: Uint8Array) => {
      const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
      if (r.sink) return r.sink(chunk, () => r.written(chunk)); // false pauses the socket until the other side drains
      // Before the relay starts (its session row is being written): keep at most a queue's worth.
      r.early.push(chunk);
      earlyBytes += n;
      return earlyBytes < QUEUE;
    },
  };
  return r;
}

/**
 * The client socket (accepted by the server, so it was made without `onread`) moved onto a socket that
 * reads into `r`: what it had already read and not handed on goes first into `r.early`. Null when this
 * Node has no handle to move (the relay then reads the client with 'data' events).
 */
function adopt(client: Socket, r: Reader): Socket | null {
  const old = client as Socket & { _handle?: { readStop?: unknown } | null };
  if (client.destroyed || !old._handle || typeof old._handle.readStop !== 'function') return null;
  for (let b = client.read() as Buffer | null; b !== null; b = client.read() as Buffer | null) r.early.push(b);
  const handle = old._handle;
  old._handle = null;
  // The old socket has no handle now: destroying it closes nothing and emits its 'close' (its listeners
  // count it out of the pending connections).
  client.destroy();
  // writableHighWaterMark = QUEUE: write() says false only when the relay itself pauses ('drain' then follows).
  const opts = { handle, onread: r, readable: true, writable: true, writableHighWaterMark: QUEUE };
  return new Socket(opts as ConstructorParameters<typeof Socket>[0]);
}

/** Writes each chunk at once; true while less than QUEUE bytes wait in `sock` (the reader may go on). */
function writer(sock: Socket): (chunk: Buffer, done: () => void) => boolean {
  return (chunk, done) => {
    sock.write(chunk, done);
    return sock.writableLength < QUEUE;
  };
}

export function relay(accepted: Socket, upstream: Socket, fromDevice: Reader): Relay {
  let reason: string | null = null;
  let resolve!: (r: string) => void;
  const finished = new Promise<string>((r) => (resolve = r));
  const fromClient = reader();
  const adopted = adopt(accepted, fromClient);
  const client = adopted ?? accepted;
  let open = 2;
  const end = (why: string) => {
    reason ??= why;
    client.destroy();
    upstream.destroy();
  };
  const onClose = () => {
    if (--open === 0) resolve(reason ?? 'closed');
  };
  client.on('error', () => end('client error'));
  upstream.on('error', () => end('device error'));
  client.once('close', () => {
    end('client closed');
    onClose();
  });
  upstream.once('close', () => {
    end('device closed');
    onClose();
  });
  // Gone before the relay was made: its 'close' is not coming again.
  if (!adopted && accepted.closed) {
    end('client closed');
    onClose();
  }
  return {
    start(first) {
      upstream.write(first);
      const toDevice = writer(upstream);
      for (const b of fromClient.early) upstream.write(b, () => fromClient.written(b));
      fromClient.early = [];
      fromClient.sink = toDevice;
      // Without a moved handle: libuv's 64 KiB 'data' chunks, paused while QUEUE bytes wait for the device.
      if (!adopted) client.on('data', (b: Buffer) => toDevice(b, () => {}) || client.pause());
      upstream.on('drain', () => client.resume());
      client.once('end', () => upstream.end());
      const toClient = writer(client);
      for (const b of fromDevice.early) client.write(b, () => fromDevice.written(b));
      fromDevice.early = [];
      fromDevice.sink = toClient;
      client.on('drain', () => upstream.resume());
      // The device closing its side ends the client's too (what pipe() did).
      upstream.once('end', () => client.end());
      client.resume();
      upstream.resume();
    },
    close(why) {
      end(why);
    },
    bytes: () => ({ in: upstream.bytesWritten, out: client.bytesWritten }),
    finished,
    queued: () => ({ toDevice: upstream.writableLength, toClient: client.writableLength }),
  };
}
