// The audit log read in order by an exporter, with a durable cursor per reader that moves by conditional
// update, so two nodes never claim the same batch.

export interface AuditFeedRecord {
  id: number;
  seq: number | null;
  at: number;
  actor: string;
  channel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  /** JSON text, as written. */
  details: string;
  hash: string | null;
}

export interface AuditFeed {
  /** The seq the cursor `key` stands at; a missing cursor is created at 0. */
  cursor(key: string): Promise<number>;
  /** Up to `limit` records after `seq`, in seq order. */
  after(seq: number, limit: number): Promise<AuditFeedRecord[]>;
  /** Moves cursor `key` from `from` to `to` when it still stands at `from`; whether it moved. */
  move(key: string, from: number, to: number): Promise<boolean>;
  /** How many records come after `seq`. */
  countAfter(seq: number): Promise<number>;
}
