// What approval mail needs from storage: the outbox and its workers' leases, the builder's progress over
// the events table, link tokens (stored as hashes), reply secrets, inbound messages already handled, and
// the console's mail settings.
import type { ApprovalRequest, GatehouseEvent } from '../types.js';

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed';

/** A mail to queue: unique by key, and by request × recipient × kind × occurrence. */
export interface NewMail {
  key: string;
  requestId: number | null;
  kind: string;
  occurrence: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  /** Extra headers (Reply-To, In-Reply-To, References, Auto-Submitted), stored as JSON. */
  headers: object;
  messageId: string;
}

/** A mail a worker has claimed. */
export interface ClaimedMail {
  id: number;
  kind: string;
  to: string;
  subject: string;
  text: string | null;
  html: string | null;
  /** JSON text of the headers given when queued. */
  headers: string;
  messageId: string;
  attempts: number;
  createdAt: number;
}

export interface OutboxStats {
  queued: number;
  sending: number;
  failed: number;
  sent: number;
  /** Age in seconds of the oldest mail not yet sent (queued or sending); 0 when none. */
  oldestUnsentSeconds: number;
  lastError: string | null;
}

/** A link token as stored. */
export interface LinkTokenRow {
  token_hash: string;
  request_id: number;
  approver_id: number;
  action: 'approve' | 'reject';
  level: number;
  created_at: number;
  used_at: number | null;
  dead_at: number | null;
}

export interface NewLinkToken {
  tokenHash: string;
  requestId: number;
  approverId: number;
  action: 'approve' | 'reject';
  level: number;
}

/** What building one event's mail does inside its transaction. */
export interface MailTx {
  getRequest(id: number): Promise<ApprovalRequest | undefined>;
  /** Inserts unless the mail exists (same key, or same request × recipient × kind × occurrence). */
  enqueue(m: NewMail, now: number): Promise<boolean>;
  insertLinkToken(t: NewLinkToken, now: number): Promise<void>;
  /** The request's reply secret; `candidate` becomes it when it has none (safe when two builders race). */
  replySecret(requestId: number, candidate: string, now: number): Promise<string>;
  /** Kills the request's live links (all, those below a level, or one approver's). */
  killLinks(requestId: number, now: number, opts?: { belowLevel?: number; approverId?: number }): Promise<void>;
}

export interface MailStore extends MailTx {
  // outbox
  outboxStats(now: number): Promise<OutboxStats>;
  /** Ids of mail due to send: queued and due, or sending with a lapsed lease. */
  dueMail(now: number, limit: number): Promise<number[]>;
  /** One conditional update: exactly one worker gets the mail. */
  claimMail(id: number, owner: string, now: number, leaseMs: number): Promise<ClaimedMail | undefined>;
  /** Sent: the bodies (they carry single-use link tokens) are forgotten. */
  /** Right before sending: extends the lease when `owner` still holds it unexpired; false when it passed (another process may send it). */
  renewMail(id: number, owner: string, now: number, leaseMs: number): Promise<boolean>;
  markSent(id: number, owner: string, now: number): Promise<void>;
  markFailed(id: number, owner: string, o: { giveUp: boolean; nextAttemptAt: number; error: string }): Promise<void>;

  // builder
  /** The builder's low-water mark over events; creates it at 0 when `create`. Undefined when it is missing. */
  eventCursor(create: boolean): Promise<number | undefined>;
  /** Mail-relevant events above the cursor that no builder has marked done, oldest first. */
  pendingEvents(cursor: number, types: readonly string[], limit: number): Promise<GatehouseEvent[]>;
  /** Moves the cursor past events older than `settledBefore` that are all done, and forgets their markers. */
  advanceCursor(cursor: number, types: readonly string[], settledBefore: number): Promise<void>;
  /** Marks the event done and runs `fn` in the same transaction; 0 without running it when another builder had it. */
  buildEvent(eventId: number, at: number, fn: (tx: MailTx) => Promise<number>): Promise<number>;
  /** Prunes sent and failed mail and seen messages created before `before`, and links before `linksBefore`. */
  housekeep(before: number, linksBefore: number): Promise<void>;

  // inbound replies
  /** Claims a Message-ID for processing; a claim left `processing` longer than `staleMs` may be taken again. */
  claimInbound(messageId: string, now: number, staleMs: number): Promise<boolean>;
  /** One IMAP poller at a time over every worker and node: takes or renews the lease when free, lapsed or ours. */
  takeImapLease(owner: string, now: number, ms: number): Promise<boolean>;
  releaseImapLease(owner: string): Promise<void>;
  setInboundOutcome(messageId: string, outcome: string): Promise<void>;
  releaseInbound(messageId: string): Promise<void>;
  replySecretOf(requestId: number): Promise<string | undefined>;

  // email links
  linkToken(tokenHash: string): Promise<LinkTokenRow | undefined>;
  killLink(tokenHash: string, now: number): Promise<void>;
  /** Kills the approver's other live, unused links for the request at `level`. */
  killApproverLinks(requestId: number, approverId: number, level: number, now: number): Promise<void>;
  /** Spends a live, unused link: true once. */
  useLink(tokenHash: string, now: number): Promise<boolean>;
  unuseLink(tokenHash: string): Promise<void>;

  // console settings
  settings(): Promise<Map<string, string>>;
  /** Sets (or, with null, removes) each key in one transaction. */
  saveSettings(entries: [string, string | null][], now: number): Promise<void>;
}
