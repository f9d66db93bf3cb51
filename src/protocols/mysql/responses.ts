// Follows the server's answers, one command at a time, to complete each audited statement with its
// row count (OK's affected rows, or the rows of a result set) or its error. Only packet heads are seen.
import { CLIENT, Cursor } from './packets.js';
import type { TappedPacket } from './tap.js';

export interface Outcome {
  rowCount: number | null;
  error: string | null;
}

const SERVER_MORE_RESULTS_EXISTS = 0x0008;

type State = 'first' | 'columns' | 'columnsEof' | 'rows';

/** Waits for answers to commands that get a result set or OK/ERR; other commands are not tracked. */
export class ResponseTracker {
  private queue: { done: (o: Outcome) => void }[] = [];
  private state: State = 'first';
  private columns = 0;
  private rows = 0;
  private affected = 0;
  private fresh = true;

  constructor(private readonly caps: number) {}

  /** A command whose answer completes `done` (called once, in order). */
  expect(done: (o: Outcome) => void): void {
    this.queue.push({ done });
  }

  /** How many commands await their answer. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Commands still waiting (a connection that ends leaves them without an outcome). */
  drain(): ((o: Outcome) => void)[] {
    const q = this.queue.map((e) => e.done);
    this.queue = [];
    return q;
  }

  packet(p: TappedPacket): void {
    const cur = this.queue[0];
    if (!cur) return;
    try {
      this.step(p, cur.done);
    } catch {
      // A head too short to read: this answer's count is unknown, the relay goes on.
      this.finish(cur.done, { rowCount: null, error: null });
    }
  }

  private step(p: TappedPacket, done: (o: Outcome) => void): void {
    const h = p.head;
    const deprecateEof = (this.caps & CLIENT.DEPRECATE_EOF) !== 0;
    // A row can start with 0xFE only as a length prefix of a 16 MiB value, so a shorter packet ends the set.
    const isEnd = h[0] === 0xfe && p.length < (deprecateEof ? 0xffffff : 9);
    switch (this.state) {
      case 'first': {
        // An answer starts at sequence 1; anything else is the tail of an untracked answer (a PREPARE's).
        if (this.fresh && p.seq !== 1) return;
        this.fresh = false;
        if (h[0] === 0x00) return this.ok(h, done);
        if (h[0] === 0xff) return this.error(h, done);
        if (h[0] === 0xfb) return this.finish(done, { rowCount: null, error: null }); // LOCAL INFILE request
        this.columns = new Cursor(h).lenenc();
        this.rows = 0;
        this.state = this.columns > 0 ? 'columns' : 'rows';
        return;
      }
      case 'columns':
        if (--this.columns === 0) this.state = deprecateEof ? 'rows' : 'columnsEof';
        return;
      case 'columnsEof':
        this.state = 'rows';
        return;
      case 'rows':
        if (h[0] === 0xff) return this.error(h, done);
        if (!isEnd) {
          this.rows++;
          return;
        }
        return this.ended(h, done, deprecateEof);
    }
  }

  private ended(h: Buffer, done: (o: Outcome) => void, deprecateEof: boolean): void {
    let status = 0;
    if (deprecateEof) {
      const c = new Cursor(h, 1);
      c.lenenc();
      c.lenenc();
      status = c.left() >= 2 ? c.uint(2) : 0;
    } else if (h.length >= 5) status = h.readUInt16LE(3);
    this.affected += this.rows;
    if (status & SERVER_MORE_RESULTS_EXISTS) {
      this.state = 'first';
      return;
    }
    this.finish(done, { rowCount: this.affected, error: null });
  }

  private ok(h: Buffer, done: (o: Outcome) => void): void {
    const c = new Cursor(h, 1);
    this.affected += c.lenenc();
    c.lenenc();
    const status = c.left() >= 2 ? c.uint(2) : 0;
    if (status & SERVER_MORE_RESULTS_EXISTS) return;
    this.finish(done, { rowCount: this.affected, error: null });
  }

  private error(h: Buffer, done: (o: Outcome) => void): void {
    const c = new Cursor(h, 3);
    let msg = c.rest();
    if (msg[0] === 0x23) msg = msg.subarray(6);
    this.finish(done, { rowCount: null, error: `${h.readUInt16LE(1)}: ${msg.toString('utf8')}` });
  }

  private finish(done: (o: Outcome) => void, o: Outcome): void {
    this.queue.shift();
    this.state = 'first';
    this.fresh = true;
    this.affected = 0;
    this.rows = 0;
    done(o);
  }
}
