// Relays a logged-in client and its device connection. Bytes pass unchanged (both legs negotiated the
// same framing); taps on each direction follow the packets to audit commands and their outcomes. The
// audit callback only queues, so the relay never waits on the database.
import type { Socket } from 'node:net';
import { encodePacket, errPacket, ER } from './packets.js';
import { ResponseTracker, type Outcome } from './responses.js';
import { COM, REFUSED, StatementBook, TEXT_CAP, type Statement } from './statements.js';

/** Commands the server never answers. */
const SILENT = new Set<number>([COM.QUIT, COM.STMT_CLOSE, COM.STMT_SEND_LONG_DATA]);
import { FrameTap } from './tap.js';

export interface RelayInput {
  client: Socket;
  clientRest: Buffer;
  device: Socket;
  deviceRest: Buffer;
  caps: number;
  showParams: boolean;
  /** Called once per audited statement, when the device has answered it (or the connection ended). */
  onStatement(s: Statement, o: Outcome, at: number): void;
}

export interface Relay {
  /** Resolves with why it ended. */
  done: Promise<string>;
  close(reason: string): void;
  bytes(): { in: number; out: number };
}

// Enough of each answer packet to read OK counts, ERR texts and PREPARE_OK.
const ANSWER_HEAD = 256;
/** Statements kept waiting for their answer's row count, at most. */
const MAX_AWAITED = 1000;

export function relay(r: RelayInput): Relay {
  const book = new StatementBook(r.showParams);
  const answers = new ResponseTracker(r.caps);
  let bytesIn = 0;
  let bytesOut = 0;
  let ended: string | null = null;
  // Commands sent, and how many had been sent when the device last spoke: a command the device has
  // not started to answer can be answered by the gateway (the reason a session is closed).
  const t = { commands: 0, spokeAt: 0, lastSeq: 0 };
  let resolve!: (why: string) => void;
  const done = new Promise<string>((res) => (resolve = res));

  const toClient = (b: Buffer) => {
    if (b.length && !r.client.write(b)) {
      r.device.pause();
      r.client.once('drain', () => r.device.resume());
    }
  };
  const clientTap = new FrameTap(
    TEXT_CAP + 1,
    (p) => {
      if (p.dropped) {
        // The refused command gets its own answer; the device never saw it.
        toClient(encodePacket((p.seq + 1) & 0xff, errPacket(ER.NOT_SUPPORTED, 'Gatehouse does not allow this command')));
        return;
      }
      if (p.seq !== 0) return; // the rest of a command's exchange (not a new command)
      if (!SILENT.has(p.head[0]!)) {
        t.commands++;
        t.lastSeq = p.seq;
      }
      const at = Date.now();
      const s = book.command(p.head, p.length);
      if (!s) return;
      // A client that pipelines without reading answers is recorded at once: the queue stays bounded.
      if (p.head[0] === COM.STMT_PREPARE || p.head[0] === COM.INIT_DB || answers.waiting >= MAX_AWAITED)
        r.onStatement(s, { rowCount: null, error: null }, at);
      else answers.expect((o) => r.onStatement(s, o, at));
    },
    (first) => REFUSED.has(first),
  );
  const deviceTap = new FrameTap(ANSWER_HEAD, (p) => {
    if (book.awaitingPrepare && p.seq === 1) book.prepareAnswer(p.head);
    answers.packet(p);
  });

  const finish = (why: string, tell = false) => {
    if (ended !== null) return;
    ended = why;
    r.device.destroy();
    // A command the device has not begun to answer gets the reason as its answer; otherwise a clean close.
    const pending =
      t.commands > t.spokeAt
        ? encodePacket((t.lastSeq + 1) & 0xff, errPacket(ER.CONNECTION_KILLED, `Gatehouse closed the session: ${why}`))
        : null;
    closeClient(r.client, tell, pending);
    for (const d of answers.drain()) d({ rowCount: null, error: null });
    resolve(why);
  };

  const fromClient = (c: Buffer) => {
    bytesIn += c.length;
    const out = clientTap.feed(c);
    if (out.length && !r.device.write(out)) {
      r.client.pause();
      r.device.once('drain', () => r.client.resume());
    }
  };
  const fromDevice = (c: Buffer) => {
    bytesOut += c.length;
    t.spokeAt = t.commands;
    toClient(deviceTap.feed(c));
  };
  for (const [sock, on, who] of [
    [r.client, fromClient, 'client'],
    [r.device, fromDevice, 'device'],
  ] as const) {
    sock.on('data', on);
    sock.on('close', () => finish(`the ${who} closed the connection`));
    sock.on('error', () => finish(`${who} connection error`));
  }
  if (r.deviceRest.length) fromDevice(r.deviceRest);
  if (r.clientRest.length) fromClient(r.clientRest);
  r.client.resume();
  r.device.resume();
  return { done, close: (reason) => finish(reason, true), bytes: () => ({ in: bytesIn, out: bytesOut }) };
}

function closeClient(client: Socket, tell: boolean, last: Buffer | null): void {
  if (!tell || client.destroyed) return void client.destroy();
  if (last) client.end(last);
  else client.end();
  setTimeout(() => client.destroy(), 2000).unref();
}
