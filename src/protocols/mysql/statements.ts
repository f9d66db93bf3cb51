// What the audit records of a client's commands: COM_QUERY's text, prepared statements (their SQL at
// PREPARE, and at EXECUTE the same SQL with the parameters, redacted unless recording.db.parameters).
import { Cursor } from './packets.js';

export const COM = {
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CHANGE_USER: 0x11,
  BINLOG_DUMP: 0x12,
  REGISTER_SLAVE: 0x15,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  BINLOG_DUMP_GTID: 0x1e,
  RESET_CONNECTION: 0x1f,
} as const;

/**
 * Commands the gateway answers with an error instead of forwarding: a change of user would log in as
 * another database account than the one granted, and replication streams would bypass the audit.
 */
export const REFUSED = new Set<number>([COM.CHANGE_USER, COM.BINLOG_DUMP, COM.BINLOG_DUMP_GTID, COM.REGISTER_SLAVE]);

/** The longest statement text kept (the audit row says when it was cut). */
export const TEXT_CAP = 64 * 1024;

export interface Statement {
  kind: 'query' | 'prepare' | 'execute' | 'init-db';
  text: string;
  /** Parameter values as text (null: SQL NULL), or null when redacted or none. */
  params: (string | null)[] | null;
  /** How many parameters were bound (EXECUTE). */
  paramCount: number;
  truncated: boolean;
}

interface Prepared {
  text: string;
  params: number;
  types: number[];
}

/** Per connection: prepared statements by id, and the one whose PREPARE_OK is awaited. */
export class StatementBook {
  private readonly prepared = new Map<number, Prepared>();
  private awaiting: string | null = null;

  constructor(private readonly showParams: boolean) {}

  /** A client command (its first bytes, and total length): the statement to record, if any. */
  command(head: Buffer, length: number): Statement | null {
    const cmd = head[0];
    const truncated = length > head.length;
    const text = () => head.subarray(1).toString('utf8');
    switch (cmd) {
      case COM.QUERY:
        return { kind: 'query', text: text(), params: null, paramCount: 0, truncated };
      case COM.INIT_DB:
        return { kind: 'init-db', text: `USE ${text()}`, params: null, paramCount: 0, truncated };
      case COM.STMT_PREPARE:
        this.awaiting = text();
        return { kind: 'prepare', text: this.awaiting, params: null, paramCount: 0, truncated };
      case COM.STMT_EXECUTE:
        return this.execute(head, truncated);
      case COM.STMT_CLOSE:
        if (head.length >= 5) this.prepared.delete(head.readUInt32LE(1));
        return null;
      default:
        return null;
    }
  }

  /** The first bytes of the server's first answer to a PREPARE: its id and parameter count. */
  prepareAnswer(head: Buffer): void {
    const text = this.awaiting;
    this.awaiting = null;
    if (text === null || head.length < 9 || head[0] !== 0x00) return;
    // Bounded: a client preparing forever without closing keeps at most this many texts.
    if (this.prepared.size >= 1000) this.prepared.delete(this.prepared.keys().next().value!);
    this.prepared.set(head.readUInt32LE(1), { text, params: head.readUInt16LE(7), types: [] });
  }

  get awaitingPrepare(): boolean {
    return this.awaiting !== null;
  }

  private execute(head: Buffer, truncated: boolean): Statement {
    const id = head.length >= 5 ? head.readUInt32LE(1) : -1;
    const p = this.prepared.get(id);
    const base = { kind: 'execute' as const, text: p?.text ?? `(prepared statement ${id})`, truncated: false };
    if (!p) return { ...base, params: null, paramCount: 0 };
    if (!this.showParams || p.params === 0) return { ...base, params: null, paramCount: p.params };
    try {
      return { ...base, params: decodeParams(new Cursor(head, 10), p), paramCount: p.params };
    } catch {
      // Cut off by the capture cap (or odd): record what is known, marked.
      return { ...base, params: null, paramCount: p.params, truncated };
    }
  }
}

function decodeParams(c: Cursor, p: Prepared): (string | null)[] {
  const nulls = c.bytes(Math.floor((p.params + 7) / 8));
  if (c.u8() === 1) {
    p.types = [];
    for (let i = 0; i < p.params; i++) p.types.push(c.uint(2));
  }
  const out: (string | null)[] = [];
  for (let i = 0; i < p.params; i++) {
    if (nulls[i >> 3]! & (1 << (i & 7))) {
      out.push(null);
      continue;
    }
    out.push(value(c, p.types[i] ?? 0xfd));
  }
  return out;
}

const MAX_SHOWN = 1024;

function value(c: Cursor, t: number): string | null {
  const unsigned = (t & 0x8000) !== 0;
  switch (t & 0xff) {
    case 0x01:
      return String(unsigned ? c.u8() : c.bytes(1).readInt8(0));
    case 0x02:
    case 0x0d:
      return String(unsigned ? c.uint(2) : c.bytes(2).readInt16LE(0));
    case 0x03:
    case 0x09:
      return String(unsigned ? c.uint(4) : c.bytes(4).readInt32LE(0));
    case 0x08:
      return String(unsigned ? c.bytes(8).readBigUInt64LE(0) : c.bytes(8).readBigInt64LE(0));
    case 0x04:
      return String(c.bytes(4).readFloatLE(0));
    case 0x05:
      return String(c.bytes(8).readDoubleLE(0));
    case 0x06:
      return null;
    case 0x07:
    case 0x0a:
    case 0x0b:
    case 0x0c:
      return `<time ${c.bytes(c.u8()).toString('hex')}>`;
    default: {
      const b = c.lenencBytes();
      const s = b.subarray(0, MAX_SHOWN).toString('utf8');
      return b.length > MAX_SHOWN ? `${s}…` : s;
    }
  }
}
