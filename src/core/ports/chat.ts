// What chat approvals (Slack, Mattermost) need from the database: settings per provider (secrets sealed by
// the vault), the outbox (one row per provider × request, re-queued by every event about the request),
// the messages posted about each request, and the cursor over the audit log that feeds the outbox.
import type { AuditFeedRecord } from './audit-feed.js';

export const CHAT_PROVIDERS = ['slack', 'mattermost'] as const;
export type ChatProvider = (typeof CHAT_PROVIDERS)[number];

export interface ChatSettings {
  provider: ChatProvider;
  /** Slack: the Web API base (null: https://slack.com/api/). Mattermost: the server's URL. */
  apiUrl: string | null;
  /** A channel that also gets each request (Slack: #name or an id; Mattermost: a channel id). */
  channel: string | null;
  botTokenEnc: string;
  /** Slack: the signing secret. Mattermost: the key of the per-message secret in button contexts. */
  secretEnc: string;
  updatedAt: number;
  updatedBy: string;
}

export interface ChatJob {
  id: number;
  provider: ChatProvider;
  requestId: number;
  /** Bumped by each event; the job is done only when the version it was claimed at is still current. */
  version: number;
  attempts: number;
}

export interface ChatMessage {
  id: number;
  provider: ChatProvider;
  requestId: number;
  /** `user:<id>` (an approver's DM), `channel`, or `requester`. */
  target: string;
  channelId: string;
  messageId: string;
  /** Random, per message: the key of its buttons' secret (Mattermost) and how it is found again. */
  key: string;
  /** Hash of what it shows now: unchanged content is not sent again. */
  rendered: string;
}

export interface ChatQueueStats {
  queued: number;
  failed: number;
  lastError: string | null;
}

export interface ChatStore {
  settings(): Promise<ChatSettings[]>;
  saveSettings(s: ChatSettings): Promise<void>;
  removeSettings(provider: ChatProvider): Promise<boolean>;

  /** The audit seq the builder stands at; created at the log's current end, so history is not replayed. */
  cursor(): Promise<number>;
  auditAfter(seq: number, limit: number): Promise<AuditFeedRecord[]>;
  /**
   * In one transaction: moves the cursor from `from` to `to` when it still stands at `from`, and queues
   * (or re-queues) a job per provider × request. False when another builder moved it first.
   */
  queue(from: number, to: number, jobs: { provider: ChatProvider; requestId: number }[], now: number): Promise<boolean>;
  due(now: number, limit: number): Promise<number[]>;
  /** Conditional update: queued and due, or sending with a lapsed lease. Undefined when someone else has it. */
  claim(id: number, owner: string, now: number, leaseMs: number): Promise<ChatJob | undefined>;
  /** Done when still at `version`, else queued again now; on failure queued for `retryAt` (null: failed for good). */
  finish(
    id: number,
    owner: string,
    version: number,
    o: { ok: boolean; error: string | null; retryAt: number | null; now: number },
  ): Promise<boolean>;
  stats(provider: ChatProvider): Promise<ChatQueueStats>;
  /** Drops finished jobs last done before `before` (the next event about their request queues them again). */
  prune(before: number): Promise<void>;

  messages(provider: ChatProvider, requestId: number): Promise<ChatMessage[]>;
  messageByKey(key: string): Promise<ChatMessage | undefined>;
  addMessage(m: Omit<ChatMessage, 'id'>, now: number): Promise<void>;
  markRendered(id: number, rendered: string, now: number): Promise<void>;
}
