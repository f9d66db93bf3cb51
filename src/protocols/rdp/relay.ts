// Byte relay between the RDP client and the device. TLS (and NLA) stay end to end: we only copy bytes.
// Byte counts come from the sockets' own counters, so nothing runs per chunk for bookkeeping.
//
// Device -> client carries the desktop (the bulk of RDP traffic), so it reads into large `onread` slabs;
// client -> device reads 64 KiB 'data' chunks (a server-accepted socket cannot take `onread`). Each
// direction writes an event-loop pass's chunks in one writev; no `stream.pipeline()` on this hot path
// (figures: docs/benchmarks.md).
import type { OnReadOpts, Socket } from 'node:net';

export interface Relay {
  /** Writes `first` to the device, then copies both ways until either side closes. */
  start(first: Buffer): void;
  /** Ends both sides now (revocation, grant end, kill, shutdown). */
  close(reason: string): void;
  /** Client->device and device->client bytes so far (the rewritten request included). */
  bytes(): { in: number; out: number };
  /** Resolves once both sockets are closed, with why it ended. */
  finished: Promise<string>;
}

const SLAB = 1 << 20;
const MIN_READ = 128 * 1024;
/** Bytes allowed to wait for the slower side before reading from the faster one pauses. */
export const RELAY_QUEUE_BYTES = 4 << 20;
const QUEUE = RELAY_QUEUE_BYTES;

/** The device socket's reader: pass as `onread` to `net.connect`, then give it to `relay()`. */
export interface DeviceReader extends OnReadOpts {
  /** Where chunks go once the relay starts; before that they are kept. `done` runs once the chunk is written. */
  sink: ((chunk: Buffer, done: () => void) => boolean) | null;
  early: Buffer[];
  /** The write of an early chunk finished (its slab may be read into again). */
  written(chunk: Buffer): void;
}

interface Slab {
  buf: Buffer;
  /** Chunks read into it that are not written yet. */
  pending: number;
  /** Reading has moved on to another slab. */
  retired: boolean;
}

/** Slabs kept for reuse per connection (each 1 MiB). */
const SPARE_SLABS = 2;

export function deviceReader(): DeviceReader {
  // Each read gets the rest of the current slab; chunks handed on are views into it. A slab is read into
  // again only once every chunk from it has been written (the write callbacks say so): a fresh 1 MiB
  // slab per MiB relayed cost a page fault per 4 KiB the kernel copied into it.
  const spare: Buffer[] = [];
  const fresh = (): Slab => ({ buf: spare.pop() ?? Buffer.allocUnsafe(SLAB), pending: 0, retired: false });
  const recycle = (slab: Slab) => {
    if (slab.retired && slab.pending === 0 && spare.length < SPARE_SLABS) spare.push(slab.buf);
  };
  const owner = new WeakMap<ArrayBufferLike, Slab>();
  let slab = fresh();
  owner.set(slab.buf.buffer, slab);
  let off = 0;
  const release = (chunk: Buffer) => {
    const s = owner.get(chunk.buffer);
    if (!s) return;
    s.pending--;
    recycle(s);
  };
  const r: DeviceReader = {
    sink: null,
    early: [],
    written: release,
    buffer: () => {
      if (SLAB - off < MIN_READ) {
        slab.retired = true;
        recycle(slab);
        slab = fresh();
        owner.set(slab.buf.buffer, slab);
        off = 0;
      }
      return slab.buf.subarray(off);
    },
    callback: (n: number, buf: Uint8Array) => {
      const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
      off += n;
      slab.pending++;
      if (r.sink) return r.sink(chunk, () => release(chunk)); // false pauses the socket until the client drains
      r.early.push(chunk);
      return true;
    },
  };
  return r;
}

/**
 * Writes to `sock`, sending every chunk written in one pass of the event loop in one writev: the socket
 * is corked at the pass's first chunk and uncorked after it (setImmediate runs once the pass's reads are
 * done), instead of one write system call per chunk.
 *
 * Returns whether the reading side may go on: true while less than QUEUE bytes wait in `sock`. Not what
 * `write()` says, which turns false past the socket's 16 KiB high-water mark: pausing there (as pipe()
 * does) stopped the reading side after every chunk, a 64 KiB read or a slab-sized one, and restarting
 * it costs an epoll change each time. Once `write()` has said false, `sock` emits 'drain' when it empties.
 */
function batchedWriter(sock: Socket): (chunk: Buffer, done?: () => void) => boolean {
  let corked = false;
  const flush = () => {
    corked = false;
    sock.uncork();
  };
  return (chunk, done) => {
    if (!corked) {
      corked = true;
      sock.cork();
      setImmediate(flush);
    }
    sock.write(chunk, done);
    return sock.writableLength < QUEUE;
  };
}

export function relay(client: Socket, upstream: Socket, reader: DeviceReader): Relay {
  let reason: string | null = null;
  let resolve!: (r: string) => void;
  const finished = new Promise<string>((r) => (resolve = r));
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
  return {
    start(first) {
      upstream.write(first);
      // Client -> device: libuv's 64 KiB chunks, one writev per event-loop pass, reading paused while
      // QUEUE bytes wait for the device.
      const toDevice = batchedWriter(upstream);
      client.on('data', (b: Buffer) => {
        if (!toDevice(b)) client.pause();
      });
      upstream.on('drain', () => client.resume());
      client.once('end', () => upstream.end());
      for (const b of reader.early) client.write(b, () => reader.written(b));
      reader.early = [];
      // Device -> client, the same way (the reader pauses the device when the sink says false).
      reader.sink = batchedWriter(client);
      client.on('drain', () => upstream.resume());
      // The device closing its side ends the client's too (what pipe() did).
      upstream.once('end', () => client.end());
      client.resume();
    },
    close(why) {
      end(why);
    },
    bytes: () => ({ in: upstream.bytesWritten, out: client.bytesWritten }),
    finished,
  };
}
