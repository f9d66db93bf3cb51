// Follows the packet framing of one direction of a relayed connection without buffering payloads:
// bytes pass through as they arrive, and only the first `cap` bytes of each logical packet are kept for
// the audit. A command the gateway refuses (told by its first byte) is swallowed whole, not forwarded.
import { MAX_CHUNK } from './packets.js';

export interface TappedPacket {
  /** Sequence id of the first physical packet. */
  seq: number;
  /** Total payload length of the logical packet. */
  length: number;
  /** Its first bytes (at most `cap`). */
  head: Buffer;
  dropped: boolean;
}

export class FrameTap {
  private hdr = Buffer.alloc(4);
  private hdrLen = 0;
  private hdrParts: Buffer[] = [];
  private remaining = 0;
  /** The current physical packet is 0xFFFFFF long: the logical packet goes on in the next one. */
  private more = false;
  private continuing = false;
  private started = false;
  private held: Buffer | null = null;
  private dropping = false;
  private seq = 0;
  private length = 0;
  private head: Buffer[] = [];
  private headLen = 0;

  constructor(
    private readonly cap: number,
    private readonly onPacket: (p: TappedPacket) => void,
    /** Given a new logical packet's first payload byte: true drops the packet. */
    private readonly refuse: (firstByte: number) => boolean = () => false,
  ) {}

  /** The bytes of `chunk` to forward (the chunk itself when nothing was held back or dropped). */
  feed(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let total = 0;
    let foreign = false;
    const emit = (b: Buffer, own: boolean) => {
      out.push(b);
      total += b.length;
      if (!own) foreign = true;
    };
    let i = 0;
    while (i < chunk.length) {
      if (this.hdrLen < 4) {
        const n = Math.min(4 - this.hdrLen, chunk.length - i);
        chunk.copy(this.hdr, this.hdrLen, i, i + n);
        this.hdrParts.push(chunk.subarray(i, i + n));
        this.hdrLen += n;
        i += n;
        if (this.hdrLen === 4) this.header(emit, n === 4, chunk);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - i);
      const piece = chunk.subarray(i, i + n);
      if (!this.started) {
        this.started = true;
        this.dropping = this.refuse(piece[0]!);
        if (!this.dropping && this.held) emit(this.held, this.heldOwn && this.heldChunk === chunk);
        this.held = null;
      }
      if (this.headLen < this.cap) {
        const k = Math.min(n, this.cap - this.headLen);
        this.head.push(Buffer.from(piece.subarray(0, k)));
        this.headLen += k;
      }
      if (!this.dropping) emit(piece, true);
      i += n;
      this.remaining -= n;
      if (this.remaining === 0) this.packetDone();
    }
    if (!foreign && total === chunk.length) return chunk;
    return out.length === 1 ? out[0]! : Buffer.concat(out, total);
  }

  private heldOwn = false;
  private heldChunk: Buffer | null = null;

  private header(emit: (b: Buffer, own: boolean) => void, own: boolean, chunk: Buffer): void {
    const header = own ? this.hdrParts[0]! : Buffer.concat(this.hdrParts);
    this.hdrParts = [];
    const len = this.hdr.readUIntLE(0, 3);
    this.remaining = len;
    this.more = len === MAX_CHUNK;
    if (this.continuing) {
      this.length += len;
      if (!this.dropping) emit(header, own);
      if (len === 0) this.packetDone();
      return;
    }
    this.seq = this.hdr[3]!;
    this.length = len;
    this.head = [];
    this.headLen = 0;
    this.dropping = false;
    if (len === 0) {
      emit(header, own);
      this.packetDone();
      return;
    }
    // Held until the first payload byte says whether the packet passes.
    this.started = false;
    this.held = header;
    this.heldOwn = own;
    this.heldChunk = chunk;
  }

  private packetDone(): void {
    this.hdrLen = 0;
    if (this.more) {
      this.continuing = true;
      return;
    }
    this.continuing = false;
    this.started = false;
    const head = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.onPacket({ seq: this.seq, length: this.length, head, dropped: this.dropping });
    this.dropping = false;
    this.head = [];
    this.headLen = 0;
  }
}
