// Relays one session channel between the client and the device. `pipe` carries backpressure both ways:
// a slow reader stops reading, its SSH window closes, and the writer's side stops. The device's exit
// status or signal is sent to the client before the channel ends, so it comes back exactly.
import type { ClientChannel, ServerChannel } from 'ssh2';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  dump: boolean;
  desc: string;
  /** The client's channel closed before the device's side did (the client left). */
  clientLeft: boolean;
}

export interface Counters {
  /** Client to device. */
  in: number;
  /** Device to client. */
  out: number;
}

export interface RelayOpts {
  counters: Counters;
  /** Menu mode: when the device's side ends, leave the client channel open (and paused). */
  keepClientOpen?: boolean;
  /** Sees every chunk from the client (the SFTP audit parses it). */
  observeIn?: (b: Buffer) => void;
  observeOut?: (b: Buffer) => void;
  /** The exit record from watchExit(), attached when the channel was opened. */
  exit?: ExitInfo;
}

export interface Relay {
  /** Settles when the device's channel has closed and everything it sent was passed on. */
  done: Promise<ExitInfo>;
  /** Ends the relay now (revocation, shutdown): the client channel ends without an exit status. The caller ends the upstream connection. */
  stop(): void;
}

/**
 * Starts recording the device's exit status. Call it in the callback that hands over the channel, not
 * after an `await`: a fast command's output, exit status and close can arrive in the same read as the
 * channel confirmation, and ssh2 emits 'exit' while parsing it — a listener added a microtask later
 * misses it and the client sees no status (ssh exits 255).
 */
export function watchExit(up: ClientChannel): ExitInfo {
  const exit: ExitInfo = { code: null, signal: null, dump: false, desc: '', clientLeft: false };
  up.on('exit', (code: number | null, signal?: string, dump?: boolean, desc?: string) => {
    exit.code = typeof code === 'number' ? code : null;
    exit.signal = signal ?? null;
    exit.dump = !!dump;
    exit.desc = desc ?? '';
  });
  return exit;
}

export function relay(client: ServerChannel, up: ClientChannel, o: RelayOpts): Relay {
  const exit = o.exit ?? watchExit(up);
  const onIn = (b: Buffer) => {
    o.counters.in += b.length;
    o.observeIn?.(b);
  };
  const onOut = (b: Buffer) => {
    o.counters.out += b.length;
    o.observeOut?.(b);
  };
  client.on('data', onIn);
  up.on('data', onOut);
  up.stderr.on('data', onOut);

  client.pipe(up);
  // end: false — the exit status must reach the client before its channel ends.
  up.pipe(client, { end: false });
  up.stderr.pipe(client.stderr, { end: false });

  let clientClosed = false;
  let upClosed = false;
  up.on('error', () => {});

  let finish: () => void = () => {};
  const done = new Promise<ExitInfo>((resolve) => {
    let finished = false;
    finish = () => {
      if (finished) return;
      finished = true;
      client.removeListener('data', onIn);
      client.removeListener('close', onClientClose);
      client.unpipe(up);
      up.unpipe(client);
      up.stderr.unpipe(client.stderr);
      if (o.keepClientOpen) {
        client.pause();
      } else if (!clientClosed) {
        try {
          if (exit.signal) client.exit(exit.signal, exit.dump, exit.desc);
          else if (exit.code !== null) client.exit(exit.code);
        } catch {
          // A signal name the protocol does not know: the client sees the channel end without a status.
        }
        client.end();
      }
      resolve(exit);
    };
    // 'close' comes after 'end': all the device's stdout has gone into the pipe. Its stderr may still be flowing.
    up.once('close', () => {
      upClosed = true;
      if (up.stderr.readableEnded || clientClosed) finish();
      else up.stderr.once('end', finish);
    });
    client.once('close', onClientClose);
    function onClientClose() {
      clientClosed = true;
      if (!upClosed) exit.clientLeft = true;
      if (upClosed) finish();
      else up.close();
    }
  });

  return {
    done,
    stop: () => {
      // Do not wait for the device: a running command keeps its channel open until it exits.
      up.close();
      finish();
    },
  };
}
