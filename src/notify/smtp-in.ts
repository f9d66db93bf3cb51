// The inbound SMTP listener (smtp-server) for a mail server that forwards replies to Gatehouse.
// A message is answered 250 once it has been processed (accepted or refused); 451 when processing failed
// (database down…), so the forwarding server retries later. No AUTH: bind it where only your MTA reaches.
import { SMTPServer } from 'smtp-server';
import type { Services } from '../services.js';
import type { ReplyProcessor } from './replies.js';

const MAX_BYTES = 2 * 1024 * 1024;

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
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
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BYTES) chunks.push(c);
      });
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
