// Finds message boundaries in a relayed PostgreSQL stream without holding it: bytes pass through as
// they come; only the messages the audit wants are copied, each up to a cap. A length below 4 is a
// protocol violation; a huge announced length is only skipped over, never buffered. A body wholly inside
// one chunk is handed over as a view of it (onMessage must not keep it); only split bodies are copied.
import { ProtocolError } from './wire.js';

/** Most of a message body the audit keeps; the rest is skipped. */
export const AUDIT_BODY_CAP = 64 * 1024;

export class MessageScanner {
  private readonly head = Buffer.alloc(5);
  private headFill = 0;
  private remaining = 0;
  private type = '';
  private parts: Buffer[] | null = null;
  private kept = 0;
  private announced = 0;

  constructor(
    private readonly wanted: ReadonlySet<string>,
    private readonly onMessage: (type: string, body: Buffer, length: number) => void,
  ) {}

  /** True between messages: the gateway may then write a message of its own into this direction. */
  atBoundary(): boolean {
    return this.headFill === 0;
  }

  feed(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.headFill === 0 && chunk.length - off >= 5) {
        // The whole header is in this chunk (the common case): read it in place, no copy.
        this.begin(chunk[off], chunk.readInt32BE(off + 1));
        off += 5;
        this.headFill = 5;
        if (this.remaining === 0) this.finish();
        continue;
      }
      if (this.headFill < 5) {
        const n = Math.min(5 - this.headFill, chunk.length - off);
        chunk.copy(this.head, this.headFill, off, off + n);
        this.headFill += n;
        off += n;
        if (this.headFill < 5) return;
        this.begin(this.head[0], this.head.readInt32BE(1));
        if (this.remaining === 0) this.finish();
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - off);
      if (this.parts && this.parts.length === 0 && n === this.remaining && n <= AUDIT_BODY_CAP) {
        // The whole body is in this chunk: the audit reads it before returning, so no copy is needed.
        this.remaining = 0;
        this.parts = null;
        this.headFill = 0;
        this.onMessage(this.type, chunk.subarray(off, off + n), this.announced);
        off += n;
        continue;
      }
      if (this.parts && this.kept < AUDIT_BODY_CAP) {
        const take = Math.min(n, AUDIT_BODY_CAP - this.kept);
        this.parts.push(Buffer.from(chunk.subarray(off, off + take)));
        this.kept += take;
      }
      this.remaining -= n;
      off += n;
      if (this.remaining === 0) this.finish();
    }
  }

  private begin(type: number, len: number): void {
    if (len < 4) throw new ProtocolError(`invalid message length ${len}`);
    this.type = String.fromCharCode(type);
    this.remaining = len - 4;
    this.announced = len - 4;
    this.parts = this.wanted.has(this.type) ? [] : null;
    this.kept = 0;
  }

  private finish(): void {
    const parts = this.parts;
    this.headFill = 0;
    this.parts = null;
    if (parts) this.onMessage(this.type, parts.length === 1 ? parts[0] : Buffer.concat(parts), this.announced);
  }
}
