// Byte relay between the RDP client and the device. TLS (and NLA) stay end to end: we only copy bytes.
// `pipe` rather than `stream.pipeline()` on the hot path (measured faster); byte counts come from the
// sockets' own counters, so nothing runs per chunk.
import type { Socket } from 'node:net';

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

export function relay(client: Socket, upstream: Socket): Relay {
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
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    },
    close(why) {
      end(why);
    },
    bytes: () => ({ in: upstream.bytesWritten, out: client.bytesWritten }),
    finished,
  };
}
