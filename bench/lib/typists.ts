// Interactive SSH sessions typing at human rates: ssh2 clients with a PTY running a small shell loop on
// the device that prints 64 KiB on a line ending in "burst" (the output burst); every other keystroke's
// echo (the PTY's, in canonical mode) is timed from the write to its arrival.
import ssh2 from 'ssh2';
import { sleep } from './wait.js';

export const TYPIST_SHELL = `while IFS= read -r l; do case "$l" in *burst) yes xxxxxxxxxxxxxxx | head -c 65536;; esac; done`;

export interface Dial {
  /** Connection options for this session (direct, through the gateway, or over a ProxyJump stream). */
  connect(i: number): Promise<ssh2.ConnectConfig>;
  /** Called for the session's connections, to close them at the end (the ProxyJump hop too). */
  extra?: ssh2.Client[];
}

export interface Typist {
  client: ssh2.Client;
  stream: ssh2.ClientChannel;
}

/** Opens one session with a PTY running TYPIST_SHELL; resolves once the shell runs. */
export async function openTypist(cfg: ssh2.ConnectConfig): Promise<Typist> {
  const client = new ssh2.Client();
  await new Promise<void>((ready, fail) => {
    client.once('ready', ready);
    client.once('error', fail);
    client.connect({ readyTimeout: 120_000, keepaliveInterval: 0, ...cfg });
  });
  const stream = await new Promise<ssh2.ClientChannel>((ok, fail) =>
    client.exec(TYPIST_SHELL, { pty: { term: 'xterm', rows: 24, cols: 80, width: 0, height: 0 } }, (err, ch) => (err ? fail(err) : ok(ch))),
  );
  stream.stderr.resume();
  // The PTY echoes a typed key once the shell's `read` holds the terminal: type until one comes back.
  let got = false;
  const on = () => (got = true);
  stream.on('data', on);
  for (let i = 0; i < 100 && !got; i++) {
    stream.write('.');
    await sleep(50);
  }
  stream.removeListener('data', on);
  if (!got) throw new Error('no echo from the session');
  stream.write('\r');
  return { client, stream };
}

/**
 * Every typist types one key every `everyMs` (starting at random offsets) for `seconds`; one keystroke in
 * `burstEvery` ends the line with "burst" instead. Returns the echo latencies (ms) of the timed keys.
 */
export async function type(typists: Typist[], seconds: number, everyMs = 200, burstEvery = 50): Promise<number[]> {
  const lat: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    typists.map(async (t, i) => {
      await sleep(Math.random() * everyMs);
      let n = i;
      let pending: { at: number } | null = null;
      let burst = false;
      t.stream.on('data', (d: Buffer) => {
        if (pending && d.includes(107 /* k */)) {
          lat.push(performance.now() - pending.at);
          pending = null;
        }
        if (burst && d.includes(10)) burst = false;
      });
      while (performance.now() < until) {
        const tick = performance.now();
        if (++n % burstEvery === 0) {
          burst = true;
          t.stream.write('burst\r');
        } else if (!pending && !burst) {
          pending = { at: performance.now() };
          t.stream.write('k');
        }
        await sleep(Math.max(0, everyMs - (performance.now() - tick)));
      }
    }),
  );
  return lat;
}
