// What a PostgreSQL session ran: simple queries, and the extended protocol's Parse / Bind / Execute,
// each with the row count of its CommandComplete (or its error). Fed by the relay's scanners; records
// go to the batched writer, so the relay never waits for the database.
import type { StatementKind, StatementRecord } from '../../core/ports/statements.js';
import { parametersText } from '../db-common/statement-writer.js';
import { AUDIT_BODY_CAP } from './scanner.js';
import { cstring, errorMessageOf } from './wire.js';

/** Client messages the audit reads: Query, Parse, Bind, Execute. */
export const CLIENT_AUDITED = new Set(['Q', 'P', 'B', 'E']);
/** Server messages: CommandComplete, ErrorResponse, ReadyForQuery, EmptyQueryResponse, PortalSuspended. */
export const SERVER_AUDITED = new Set(['C', 'E', 'Z', 'I', 's']);

const MAX_PENDING = 1000;
const MAX_NAMED = 10_000;

export interface AuditSink {
  base: Omit<StatementRecord, 'at' | 'kind' | 'statement' | 'parameters' | 'rowCount' | 'error'>;
  recordParameters: boolean;
  push(r: StatementRecord): void;
  now(): number;
}

export class PgAudit {
  private readonly statements = new Map<string, string>();
  private readonly portals = new Map<string, { statement: string; parameters: string | null }>();
  /** Records waiting for their answer; each is the object the writer keeps (one allocation per statement). */
  private pending: StatementRecord[] = [];
  private failedCycle = false;
  /** Statements not recorded because a client pipelined more than MAX_PENDING without a Sync. */
  skipped = 0;

  constructor(private readonly sink: AuditSink) {}

  fromClient = (type: string, body: Buffer, length: number): void => {
    const cut = length > AUDIT_BODY_CAP;
    try {
      if (type === 'Q') this.queue('query', this.text(body, 0, cut), null);
      else if (type === 'P') this.parse(body, cut);
      else if (type === 'B') this.bind(body, cut);
      else if (type === 'E') {
        const portal = this.portals.get(cstring(body, 0).value);
        this.queue('execute', portal?.statement ?? '(unknown prepared statement)', portal?.parameters ?? null);
      }
    } catch {
      // A body cut at the cap (or malformed: the server will say so) is recorded as far as it reads.
      if (type === 'Q') this.queue('query', body.toString('utf8').replace(/\0+$/, '') + ' …', null);
    }
  };

  fromServer = (type: string, body: Buffer): void => {
    const head = this.pending[0];
    if (type === 'C') {
      if (!head) return;
      const n = trailingCount(body);
      if (n !== null) head.rowCount = (head.rowCount ?? 0) + n;
      if (head.kind === 'execute') this.done();
    } else if (type === 'E') {
      this.failedCycle = true;
      if (!head) return;
      head.error = errorMessageOf(body);
      if (head.kind === 'execute') this.done();
    } else if (type === 'I' || type === 's') {
      if (head?.kind === 'execute') this.done();
    } else if (type === 'Z') {
      while (this.pending.length) {
        if (this.failedCycle && this.pending[0].kind === 'execute' && !this.pending[0].error)
          this.pending[0].error = 'not run: an earlier statement failed';
        this.done();
      }
      this.failedCycle = false;
    }
  };

  /** Records whatever never got its answer (the session ended). */
  flush(): void {
    while (this.pending.length) this.done();
  }

  private text(body: Buffer, at: number, cut: boolean): string {
    if (cut) return body.toString('utf8', at).replace(/\0[\s\S]*$/, '') + ' …';
    return cstring(body, at).value;
  }

  private parse(body: Buffer, cut: boolean): void {
    const name = cstring(body, 0);
    const query = this.text(body, name.next, cut);
    if (this.statements.size < MAX_NAMED || this.statements.has(name.value)) this.statements.set(name.value, query);
    this.sink.push(this.record(name.value ? 'prepare' : 'parse', query, null));
  }

  private bind(body: Buffer, cut: boolean): void {
    const portal = cstring(body, 0);
    const stmt = cstring(body, portal.next);
    const statement = this.statements.get(stmt.value) ?? '(unknown prepared statement)';
    let parameters: string | null = null;
    if (!cut) parameters = parametersText(bindValues(body, stmt.next), this.sink.recordParameters);
    if (this.portals.size < MAX_NAMED || this.portals.has(portal.value)) this.portals.set(portal.value, { statement, parameters });
  }

  private queue(kind: StatementKind, statement: string, parameters: string | null): void {
    if (this.pending.length >= MAX_PENDING) {
      this.skipped++;
      return;
    }
    this.pending.push(this.record(kind, statement, parameters));
  }

  private done(): void {
    const p = this.pending.shift();
    if (p) this.sink.push(p);
  }

  /** Every field set in one literal: one object shape for all records, no spread per statement. */
  private record(kind: StatementKind, statement: string, parameters: string | null): StatementRecord {
    const b = this.sink.base;
    return {
      sessionId: b.sessionId,
      at: this.sink.now(),
      user: b.user,
      device: b.device,
      account: b.account,
      protocol: b.protocol,
      kind,
      statement,
      parameters,
      rowCount: null,
      error: null,
    };
  }
}

/** CommandComplete's row count: its tag's last word when that is a number ("SELECT 1", "INSERT 0 5"). */
function trailingCount(body: Buffer): number | null {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0 || body[end - 1] === 0x20)) end--;
  let start = end;
  // 15 digits at most: beyond that the count would not be exact as a number.
  while (start > 0 && end - start < 15 && body[start - 1] >= 0x30 && body[start - 1] <= 0x39) start--;
  if (start === end || (start > 0 && body[start - 1] >= 0x30 && body[start - 1] <= 0x39)) return null;
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + (body[i] - 0x30);
  return n;
}

/** Bind's parameter values: text ones as text, binary ones described (their bytes are no statement). */
function bindValues(b: Buffer, at: number): (string | null)[] {
  const nFormats = b.readInt16BE(at);
  const formats: number[] = [];
  let i = at + 2;
  for (let k = 0; k < nFormats; k++, i += 2) formats.push(b.readInt16BE(i));
  const n = b.readInt16BE(i);
  i += 2;
  const out: (string | null)[] = [];
  for (let k = 0; k < n; k++) {
    const len = b.readInt32BE(i);
    i += 4;
    if (len < 0) {
      out.push(null);
      continue;
    }
    const binary = (nFormats === 1 ? formats[0] : (formats[k] ?? 0)) === 1;
    out.push(binary ? `<binary, ${len} bytes>` : b.toString('utf8', i, i + len));
    i += len;
  }
  return out;
}
