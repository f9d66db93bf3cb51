// Statements of database sessions go to the database in batches, off the relay's path: push() never
// waits. The queue is bounded; past the bound, statements are counted instead of kept (a slow database
// must not grow the gateway's memory or slow the relay), and the count is logged and exposed.
import {
  capText,
  PARAMETERS_MAX_CHARS,
  STATEMENT_ERROR_MAX_CHARS,
  STATEMENT_MAX_CHARS,
  type StatementRecord,
  type StatementRepository,
} from '../../core/ports/statements.js';

export const STATEMENT_QUEUE_LIMIT = 10_000;
/** Rows per INSERT. */
const BATCH = 500;
/** How long a lone statement may wait for company before it is written. */
const FLUSH_MS = 100;

interface Log {
  warn(obj: object, msg: string): void;
}

export class StatementWriter {
  private queue: StatementRecord[] = [];
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Statements dropped since start because the queue was full. */
  dropped = 0;
  /** Statements written since start. */
  written = 0;

  constructor(
    private readonly repo: StatementRepository,
    private readonly log: Log,
    private readonly limit = STATEMENT_QUEUE_LIMIT,
  ) {}

  push(r: StatementRecord): void {
    if (this.queue.length >= this.limit) {
      if (this.dropped++ % 1000 === 0) this.log.warn({ dropped: this.dropped }, 'statement audit queue full: statements dropped');
      return;
    }
    const long =
      r.statement.length > STATEMENT_MAX_CHARS ||
      (r.parameters?.length ?? 0) > PARAMETERS_MAX_CHARS ||
      (r.error?.length ?? 0) > STATEMENT_ERROR_MAX_CHARS - 30;
    // Most records need no cap: kept as given (callers hand over a fresh object) instead of copied.
    if (!long) this.queue.push(r);
    else
      this.queue.push({
        ...r,
        statement: capText(r.statement, STATEMENT_MAX_CHARS),
        parameters: r.parameters === null ? null : capText(r.parameters, PARAMETERS_MAX_CHARS),
        error: r.error === null ? null : capText(r.error, STATEMENT_ERROR_MAX_CHARS - 30),
      });
    if (this.queue.length >= BATCH) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), FLUSH_MS);
  }

  /** Resolves once everything queued so far is written (session end, shutdown, tests). */
  async flushed(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, BATCH);
      try {
        await this.repo.append(batch);
        this.written += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        this.log.warn({ err: String(err), rows: batch.length }, 'statement audit write failed: statements dropped');
      }
    }
  }
}

/** Parameter values as stored: the values when `record` is on, else one marker per value. */
export function parametersText(values: readonly (string | null)[], record: boolean): string | null {
  if (!values.length) return null;
  return JSON.stringify(record ? values : values.map(() => '[redacted]'));
}
