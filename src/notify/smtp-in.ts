// The inbound SMTP listener (smtp-server) for a mail server that forwards replies to Gatehouse.
// A message is answered 250 once it has been processed (accepted or refused); 451 when processing failed
// (database down…), so the forwarding server retries later. No AUTH: bind it where only your MTA reaches.
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Services } from '../services.js';
import type { ReplyProcessor } from './replies.js';

/** The largest reply Gatehouse reads, over SMTP or IMAP: a reply to an approval mail is a few KiB. */
export const MAX_BYTES = 2 * 1024 * 1024;
const MAX_RECIPIENTS = 100;

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

interface Conn {
  session: unknown;
  send(code: number, text: string): void;
  _socket?: Socket;
}

/**
 * Answers `code 552` on the connection of this session and closes it, so nothing more is read. smtp-server
 * has no public way to stop a DATA transfer early; false when its connection cannot be found (the
 * message is then read to its end, discarded, and refused with 552 there).
 */
function refuseAndClose(server: SMTPServer, session: unknown, text: string): boolean {
  const conns = (server as unknown as { connections?: Set<Conn> }).connections;
  const conn = conns ? [...conns].find((c) => c.session === session) : undefined;
  const sock = conn?._socket;
  if (!conn || !sock) return false;
  conn.send(552, text);
  sock.end();
  sock.once('finish', () => sock.destroy());
  setTimeout(() => sock.destroy(), 1000).unref();
  return true;
}

export async function startSmtpListener(s: Services, replies: ReplyProcessor, port: number): Promise<SmtpListener> {
  const server = new SMTPServer({
    name: 'gatehouse',
    banner: 'Gatehouse approval replies',
    authOptional: true,
    disabledCommands: ['AUTH'],
    // No reverse DNS of the client: it costs a lookup per connection and decides nothing here.
    disableReverseLookup: true,
    size: MAX_BYTES,
    logger: false,
    // The envelope is held in memory for the whole transaction: a reply has one recipient, a few are fine.
    onRcptTo(_address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) {
        const err = new Error(`Error: too many recipients (at most ${MAX_RECIPIENTS})`) as Error & { responseCode?: number };
        err.responseCode = 452;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      const onChunk = (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BYTES) return void chunks.push(c);
        // Past the limit: answer 552 now and drop the connection instead of reading the rest.
        if (refuseAndClose(server, session, `Error: message exceeds fixed maximum message size ${MAX_BYTES}`)) {
          stream.removeListener('data', onChunk);
          chunks.length = 0;
        }
      };
      stream.on('data', onChunk);
      stream.on('end', () => {
        if (stream.sizeExceeded || size > MAX_BYTES) {
          const err = new Error('message too large') as Error & { responseCode?: number };
          err.responseCode = 552;
          return callback(err);
        }
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        replies
          .process(Buffer.concat(chunks), { via: 'smtp', recipients })
          .then(() => callback(null, 'processed'))
          .catch((e) => {
            s.log.warn({ err: String(e) }, 'inbound mail processing failed; asked the sender to retry');
            const err = new Error('temporary failure, try again later') as Error & { responseCode?: number };
            err.responseCode = 451;
            callback(err);
          });
      });
    },
  });
  server.on('error', (err) => s.log.warn({ err: String(err) }, 'smtp listener error'));
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    server.server.once('error', onErr);
    server.listen(port, s.config.bind, () => {
      server.server.off('error', onErr);
      resolve();
    });
  });
  const addr = server.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    port: actual,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
