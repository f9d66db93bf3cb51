// A webhook receiver on 127.0.0.1 for the tests: records every POST (headers, raw body) and answers with
// whatever the test's handler decides (a status, a hang, a redirect, an endless body).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Received {
  path: string;
  delivery: string;
  event: string;
  signature: string;
  body: string;
  at: number;
}

export type Handler = (r: Received, res: ServerResponse, req: IncomingMessage) => void;

export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  handler: Handler;
  close(): Promise<void>;
}

export const ok: Handler = (_r, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');

export async function startReceiver(handler: Handler = ok): Promise<Receiver> {
  const sockets = new Set<import('node:net').Socket>();
  const rcv: Receiver = { url: '', port: 0, got: [], handler, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        delivery: String(req.headers['gatehouse-delivery'] ?? ''),
        event: String(req.headers['gatehouse-event'] ?? ''),
        signature: String(req.headers['gatehouse-signature'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      rcv.got.push(r);
      rcv.handler(r, res, req);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rcv.port = (server.address() as AddressInfo).port;
  rcv.url = `http://127.0.0.1:${rcv.port}/hook`;
  rcv.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return rcv;
}

/** The verification recipe exactly as docs/webhooks.md prints it (the block after `<!-- recipe -->`). */
export function documentedVerify(): (secret: string, header: string, body: string, toleranceSeconds?: number) => boolean {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/webhooks.md', import.meta.url)), 'utf8');
  const m = /<!-- recipe -->\s*```js\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/webhooks.md has no recipe block');
  return new Function('require', `${m[1]}\nreturn verifyGatehouse;`)(createRequire(import.meta.url));
}
