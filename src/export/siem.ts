// SIEM export: every audit record, in order, as one JSON line to a file and/or as an RFC 5424 syslog
// message over UDP, TCP (octet-counted framing) or TLS. The durable queue is the audit log itself: a
// cursor per sink (in `meta`) moves past a record only after the sink took it, so a collector outage
// delays records and loses none. Several nodes may run it: the cursor moves by conditional update, so
// each record is sent by the node that claimed its batch (a node that dies mid-batch re-sends at most
// that batch: at-least-once, with the record's seq for de-duplication).
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname } from 'node:os';
import type { AuditFeed } from '../core/ports/audit-feed.js';

export interface SiemRecord {
  seq: number;
  id: number;
  at: string;
  actor: string;
  channel: string;
  action: string;
  target: string | null;
  details: unknown;
  hash: string | null;
}

export interface Sink {
  name: string;
  send(records: SiemRecord[]): Promise<void>;
  close(): Promise<void>;
}

export class FileSink implements Sink {
  readonly name: string;
  constructor(private readonly path: string) {
    this.name = `file:${path}`;
    mkdirSync(dirname(path), { recursive: true });
  }
  async send(records: SiemRecord[]): Promise<void> {
    appendFileSync(this.path, records.map((r) => JSON.stringify(r) + '\n').join(''), { mode: 0o640 });
  }
  async close(): Promise<void> {}
}

/** RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG. Facility authpriv (10), severity notice (5). */
export function syslogLine(r: SiemRecord, host = hostname()): string {
  const pri = 10 * 8 + (r.action.endsWith('.failed') || r.action.includes('mismatch') ? 4 : 5);
  const sdEscape = (v: string) => v.replace(/[\\"\]]/g, (c) => `\\${c}`);
  const sd = `[gatehouse@32473 seq="${r.seq}" action="${sdEscape(r.action)}" actor="${sdEscape(r.actor)}"]`;
  return `<${pri}>1 ${r.at} ${host.replace(/\s/g, '') || '-'} gatehouse ${process.pid} ${r.action.slice(0, 32).replace(/\s/g, '_')} ${sd} ${JSON.stringify(r)}`;
}

export class SyslogSink implements Sink {
  readonly name: string;
  private socket: Socket | null = null;
  constructor(private readonly url: URL) {
    this.name = `syslog:${url.protocol}//${url.host}`;
  }

  private async stream(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const port = Number(this.url.port || (this.url.protocol === 'tls:' ? 6514 : 514));
    const host = this.url.hostname;
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s =
        this.url.protocol === 'tls:'
          ? tlsConnect({ host, port, servername: host, rejectUnauthorized: this.url.searchParams.get('verify') !== 'off' }, () =>
              resolve(s),
            )
          : netConnect({ host, port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('syslog collector timed out')));
    });
    sock.on('error', () => sock.destroy());
    this.socket = sock;
    return sock;
  }

  async send(records: SiemRecord[]): Promise<void> {
    if (this.url.protocol === 'udp:') {
      const sock = createSocket(this.url.hostname.includes(':') ? 'udp6' : 'udp4');
      try {
        for (const r of records)
          await new Promise<void>((resolve, reject) =>
            sock.send(Buffer.from(syslogLine(r)), Number(this.url.port || 514), this.url.hostname, (err) =>
              err ? reject(err) : resolve(),
            ),
          );
      } finally {
        sock.close();
      }
      return;
    }
    const sock = await this.stream();
    // RFC 6587 octet counting: "<len> <message>".
    const payload = records.map((r) => {
      const m = Buffer.from(syslogLine(r));
      return Buffer.concat([Buffer.from(`${m.length} `), m]);
    });
    await new Promise<void>((resolve, reject) => {
      sock.write(Buffer.concat(payload), (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.socket?.end();
    this.socket = null;
  }
}

export function sinksFromConfig(c: { siemFile?: string; syslogUrl?: string }): Sink[] {
  const sinks: Sink[] = [];
  if (c.siemFile) sinks.push(new FileSink(c.siemFile));
  if (c.syslogUrl) {
    const u = new URL(c.syslogUrl);
    if (!['udp:', 'tcp:', 'tls:'].includes(u.protocol)) throw new Error('GATEHOUSE_SYSLOG_URL must start with udp://, tcp:// or tls://');
    sinks.push(new SyslogSink(u));
  }
  return sinks;
}

/** Ships audit records to one sink from a durable cursor. */
export class SiemExporter {
  private readonly cursorKey: string;
  failures = 0;
  lastError: string | null = null;

  constructor(
    private readonly feed: AuditFeed,
    readonly sink: Sink,
    private readonly batch = 500,
  ) {
    this.cursorKey = `siem_cursor:${sink.name}`.slice(0, 64);
  }

  private cursor(): Promise<number> {
    return this.feed.cursor(this.cursorKey);
  }

  /** Sends what is pending; returns how many records went out. Throws nothing: failures retry next time. */
  async drain(): Promise<number> {
    let sent = 0;
    try {
      for (;;) {
        const from = await this.cursor();
        const rows = await this.feed.after(from, this.batch);
        if (!rows.length) break;
        const records: SiemRecord[] = rows.map((r) => ({
          seq: r.seq ?? r.id,
          id: r.id,
          at: new Date(r.at).toISOString(),
          actor: r.actor,
          channel: r.channel,
          action: r.action,
          target: r.targetType ? `${r.targetType}:${r.targetId}` : null,
          details: JSON.parse(r.details),
          hash: r.hash,
        }));
        const to = records[records.length - 1].seq;
        // Claim the batch first (conditional), so two nodes never ship the same batch twice.
        if (!(await this.feed.move(this.cursorKey, from, to))) continue;
        try {
          await this.sink.send(records);
        } catch (err) {
          // Give the batch back: the next drain sends it again.
          await this.feed.move(this.cursorKey, to, from);
          throw err;
        }
        sent += records.length;
      }
      this.lastError = null;
    } catch (err) {
      this.failures++;
      this.lastError = String((err as Error)?.message ?? err);
    }
    return sent;
  }

  /** Records written but not yet shipped. */
  async pending(): Promise<number> {
    const from = await this.cursor();
    return this.feed.countAfter(from);
  }
}
