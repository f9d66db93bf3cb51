// Audits SFTP file operations (open for read or write, remove, rename, mkdir, rmdir, setstat…) with
// their paths, by reading packet headers as the bytes pass. Nothing is buffered but the few small
// packets that name a path: WRITE and DATA packets, the bulk of a transfer, are skipped by length.
import { printable } from './target.js';

const T = {
  OPEN: 3,
  CLOSE: 4,
  SETSTAT: 9,
  FSETSTAT: 10,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  RENAME: 18,
  SYMLINK: 20,
  EXTENDED: 200,
  STATUS: 101,
  HANDLE: 102,
} as const;
const CLIENT_TYPES = new Set<number>([T.OPEN, T.CLOSE, T.SETSTAT, T.FSETSTAT, T.REMOVE, T.MKDIR, T.RMDIR, T.RENAME, T.SYMLINK, T.EXTENDED]);
const SERVER_TYPES = new Set<number>([T.STATUS, T.HANDLE]);
/** Path-bearing packets are small; anything bigger of those types is skipped, not buffered. */
const MAX_KEPT = 64 * 1024;
const MAX_PENDING = 4096;
const STATUS_NAMES = [
  'ok',
  'eof',
  'no such file',
  'permission denied',
  'failure',
  'bad message',
  'no connection',
  'connection lost',
  'unsupported',
];

/** Splits a byte stream into SFTP packets; hands over the kept ones as (type, body after the type byte). */
export class PacketScanner {
  private hdr = Buffer.alloc(5);
  private hdrLen = 0;
  private skip = 0;
  private body: Buffer | null = null;
  private bodyLen = 0;
  private type = 0;
  broken = false;

  constructor(
    private readonly keep: (type: number) => boolean,
    private readonly onPacket: (type: number, body: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n && !this.broken) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - off);
        this.skip -= k;
        off += k;
        continue;
      }
      if (this.body) {
        const k = Math.min(this.body.length - this.bodyLen, n - off);
        chunk.copy(this.body, this.bodyLen, off, off + k);
        this.bodyLen += k;
        off += k;
        if (this.bodyLen === this.body.length) {
          const body = this.body;
          this.body = null;
          this.onPacket(this.type, body);
        }
        continue;
      }
      const k = Math.min(5 - this.hdrLen, n - off);
      chunk.copy(this.hdr, this.hdrLen, off, off + k);
      this.hdrLen += k;
      off += k;
      if (this.hdrLen < 5) continue;
      this.hdrLen = 0;
      const len = this.hdr.readUInt32BE(0);
      this.type = this.hdr[4];
      // SFTP packets are at most ~256 KiB in practice; a length beyond 16 MiB means we lost the framing.
      if (len < 1 || len > 16 * 1024 * 1024) {
        this.broken = true;
        return;
      }
      if (this.keep(this.type) && len - 1 <= MAX_KEPT) {
        this.body = Buffer.allocUnsafe(len - 1);
        this.bodyLen = 0;
        if (len === 1) {
          this.body = null;
          this.onPacket(this.type, Buffer.alloc(0));
        }
      } else this.skip = len - 1;
    }
  }
}

class Reader {
  off = 0;
  constructor(private readonly b: Buffer) {}
  u32(): number {
    const v = this.b.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  bytes(): Buffer {
    const len = this.u32();
    const v = this.b.subarray(this.off, this.off + len);
    if (v.length !== len) throw new RangeError('short string');
    this.off += len;
    return v;
  }
  str(): string {
    return this.bytes().toString('utf8');
  }
}

export interface SftpOp {
  action: string;
  path: string;
  details?: Record<string, unknown>;
}

interface Pending extends SftpOp {
  /** OPEN: the reply's handle names this path from now on. */
  handleFor?: boolean;
  /** FSETSTAT: the handle whose path is looked up when the reply comes. */
  handle?: string;
}

/**
 * Watches both directions of one SFTP channel and reports each audited operation once the server
 * answers it (with its result), or when the channel ends with it unanswered.
 */
export class SftpAudit {
  private readonly pending = new Map<number, Pending>();
  private readonly handles = new Map<string, string>();
  readonly fromClient: PacketScanner;
  readonly fromServer: PacketScanner;

  constructor(private readonly report: (op: SftpOp, result: string) => void) {
    this.fromClient = new PacketScanner(
      (t) => CLIENT_TYPES.has(t),
      (t, b) => this.safe(() => this.request(t, b)),
    );
    this.fromServer = new PacketScanner(
      (t) => SERVER_TYPES.has(t),
      (t, b) => this.safe(() => this.response(t, b)),
    );
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      // A malformed packet: the server will refuse it too; nothing to audit.
    }
  }

  private request(type: number, body: Buffer): void {
    const r = new Reader(body);
    const id = r.u32();
    const path = () => printable(r.str(), 1024);
    let op: Pending | null = null;
    switch (type) {
      case T.OPEN: {
        const p = path();
        const flags = r.u32();
        const read = (flags & 1) !== 0;
        const write = (flags & (2 | 4 | 8 | 16)) !== 0;
        const mode = read && write ? 'read+write' : write ? 'write' : 'read';
        op = {
          action: 'sftp.open',
          path: p,
          details: { mode, create: (flags & 8) !== 0, truncate: (flags & 16) !== 0, append: (flags & 4) !== 0 },
          handleFor: true,
        };
        break;
      }
      case T.CLOSE:
        this.handles.delete(r.bytes().toString('base64'));
        return;
      case T.SETSTAT:
        op = { action: 'sftp.setstat', path: path() };
        break;
      case T.FSETSTAT:
        op = { action: 'sftp.setstat', path: '(open file)', handle: r.bytes().toString('base64') };
        break;
      case T.REMOVE:
        op = { action: 'sftp.remove', path: path() };
        break;
      case T.MKDIR:
        op = { action: 'sftp.mkdir', path: path() };
        break;
      case T.RMDIR:
        op = { action: 'sftp.rmdir', path: path() };
        break;
      case T.RENAME: {
        const from = path();
        op = { action: 'sftp.rename', path: from, details: { to: path() } };
        break;
      }
      case T.SYMLINK: {
        // OpenSSH sends (target, link) — the reverse of the draft; record both as sent.
        const a = path();
        op = { action: 'sftp.symlink', path: a, details: { other: path() } };
        break;
      }
      case T.EXTENDED: {
        const name = r.str();
        if (name === 'posix-rename@openssh.com') {
          const from = path();
          op = { action: 'sftp.rename', path: from, details: { to: path() } };
        } else if (name === 'hardlink@openssh.com') {
          const from = path();
          op = { action: 'sftp.hardlink', path: from, details: { to: path() } };
        } else if (name === 'lsetstat@openssh.com') {
          op = { action: 'sftp.setstat', path: path() };
        } else return;
        break;
      }
      default:
        return;
    }
    if (this.pending.size >= MAX_PENDING) {
      const [oldest, o] = this.pending.entries().next().value as [number, Pending];
      this.pending.delete(oldest);
      this.report(o, 'unanswered');
    }
    this.pending.set(id, op);
  }

  private response(type: number, body: Buffer): void {
    const r = new Reader(body);
    const id = r.u32();
    const op = this.pending.get(id);
    if (!op) return;
    this.pending.delete(id);
    if (op.handle) op.path = this.handles.get(op.handle) ?? op.path;
    if (type === T.HANDLE) {
      if (op.handleFor) {
        if (this.handles.size >= MAX_PENDING) this.handles.delete(this.handles.keys().next().value as string);
        this.handles.set(r.bytes().toString('base64'), op.path);
      }
      this.report(op, 'ok');
      return;
    }
    const code = r.u32();
    this.report(op, STATUS_NAMES[code] ?? `error ${code}`);
  }

  /** The channel ended: report what never got an answer. */
  flush(): void {
    for (const op of this.pending.values()) this.report(op, 'unanswered');
    this.pending.clear();
    this.handles.clear();
  }
}
