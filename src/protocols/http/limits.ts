// Size limits for what the proxy itself reads from a client. The proxy's own forms are tiny; a body
// past the limit is answered and the connection closed, so nobody can make the gateway buffer, or even
// keep receiving, hundreds of MiB.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/** The largest form the proxy's own routes (/.gatehouse/*) read. */
export const FORM_LIMIT_BYTES = 4096;

export type FormResult = URLSearchParams | 'too-large' | null;

/** Whether the request announces a body (a length other than 0, or chunks). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return cl !== undefined ? cl !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/**
 * Reads a urlencoded form of at most `limit` bytes. 'too-large' as soon as the announced length or the
 * bytes received pass it: reading stops there (the caller answers and the connection is closed).
 * null when the body could not be read.
 */
export function readForm(req: IncomingMessage, limit = FORM_LIMIT_BYTES): Promise<FormResult> {
  return new Promise((resolve) => {
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > limit) return resolve('too-large');
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (v: FormResult) => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.pause();
      resolve(v);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return stop('too-large');
      chunks.push(c);
    };
    const onEnd = () => stop(new URLSearchParams(Buffer.concat(chunks, size).toString('utf8')));
    const onError = () => stop(null);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * A response sent before the request's body was read to its end closes the connection once sent:
 * otherwise Node reads (and discards) the rest of the body to reach the next request on it, however long.
 */
export function closeIfUnread(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    if (!req.complete) req.socket.destroy();
  });
}

/** Marks the response as the connection's last (Connection: close), before its head is written. */
export function lastOnConnection(res: ServerResponse): void {
  res.shouldKeepAlive = false;
}

/**
 * The client's body as the device's request body. undici destroys the body it was given when the device
 * closes early (an nginx 405 or 413 before the upload ends); a wrapper keeps that from destroying the
 * client's socket before the device's answer is passed on. The client's side then stops being read.
 */
export function upstreamBody(req: IncomingMessage): Readable {
  const out = new PassThrough();
  req.pipe(out);
  req.once('close', () => {
    if (!req.complete) out.destroy(new Error('the client closed the connection'));
  });
  out.once('close', () => {
    req.unpipe(out);
    if (!req.complete) req.pause();
  });
  return out;
}
