// Senders for hostile-sizes.test.ts: a body of any size generated while it is sent (one 64 KiB buffer,
// reused), with backpressure, stopping as soon as the server closes; and the process's peak RSS meanwhile.
import { connect } from 'node:net';

export const MiB = 1024 * 1024;

export interface Flood {
  /** The HTTP status of the answer, or null when none came. */
  status: number | null;
  response: string;
  /** Body bytes the sender got into its socket before the server closed or all was sent. */
  sent: number;
  ms: number;
  /** Peak RSS growth of this process (the gateway runs in it) while the flood ran. */
  rssGrowth: number;
}

/** Samples this process's RSS; stop() gives the peak growth over the start. */
export function peakRss(): { stop(): number } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage.rss()) - start;
    },
  };
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const FRAME = Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]);

/**
 * Sends `head` (request line and headers) and a body of `total` bytes, chunked or with a Content-Length.
 * Resolves once the server closed the connection, or all was sent and the answer came, or `timeoutMs`.
 */
export function flood(port: number, head: string[], total: number, framing: 'chunked' | 'length', timeoutMs = 60_000): Promise<Flood> {
  const rss = peakRss();
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve({ status: m ? Number(m[1]) : null, response, sent, ms: Date.now() - t0, rssGrowth: rss.stop() });
    };
    const timer = setTimeout(finish, timeoutMs);
    const pump = () => {
      while (!done && sent < total) {
        const n = Math.min(CHUNK.length, total - sent);
        const buf =
          framing === 'chunked'
            ? n === CHUNK.length
              ? FRAME
              : Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), CHUNK.subarray(0, n), Buffer.from('\r\n')])
            : n === CHUNK.length
              ? CHUNK
              : CHUNK.subarray(0, n);
        sent += n;
        if (!s.write(buf)) return void s.once('drain', pump);
      }
      if (!done && framing === 'chunked') s.write('0\r\n\r\n');
    };
    s.on('connect', () => {
      const headers = [...head, framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`];
      s.write(`${headers.join('\r\n')}\r\n\r\n`);
      pump();
    });
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
      // A whole answer after the whole body: done (the connection may stay open for the next request).
      if (sent >= total && /\r\n\r\n/.test(response)) {
        const cl = /content-length: (\d+)/i.exec(response);
        const bodyAt = response.indexOf('\r\n\r\n') + 4;
        if (!cl || response.length - bodyAt >= Number(cl[1])) finish();
      }
    });
    s.on('error', finish);
    s.on('close', finish);
  });
}

/** One SMTP transaction with a `total`-byte message, generated; resolves when the server closes or answers DATA's end. */
export function smtpFlood(port: number, total: number, timeoutMs = 60_000): Promise<{ response: string; sent: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let step = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ response, sent, ms: Date.now() - t0 });
    };
    const timer = setTimeout(finish, timeoutMs);
    const line = Buffer.concat([Buffer.alloc(998, 0x61), Buffer.from('\r\n')]);
    const pump = () => {
      while (!done && sent < total) {
        sent += line.length;
        if (!s.write(line)) return void s.once('drain', pump);
      }
      if (!done) s.write('.\r\n');
    };
    const script = ['EHLO sender.test\r\n', 'MAIL FROM:<a@sender.test>\r\n', 'RCPT TO:<approvals@gh.test>\r\n', 'DATA\r\n'];
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
      const lines = response.split('\r\n').filter((l) => /^\d{3} /.test(l));
      if (lines.length > step && step < script.length) {
        s.write(script[step]);
        step++;
      } else if (step === script.length && lines.length > step) {
        if (/^354 /.test(lines[step])) {
          step++;
          pump();
        } else finish();
      } else if (step > script.length && lines.length > step) finish();
    });
    s.on('error', finish);
    s.on('close', finish);
  });
}
