// What the chat outbox and the click handlers need from a chat (Slack, Mattermost), whatever its API.
import type { Card } from './card.js';

export type Recipient = { user: string } | { channel: string };

export interface ChatApi {
  /** The chat's user id for an email; null when the chat has none. */
  userByEmail(email: string): Promise<string | null>;
  /** The email of a chat user (who clicked); null when the chat does not show one. */
  emailOf(userId: string): Promise<string | null>;
  /** Posts a card; `key` is the message's own random key (Mattermost signs its buttons' context with it). */
  post(to: Recipient, card: Card, key: string): Promise<{ channelId: string; messageId: string }>;
  update(channelId: string, messageId: string, card: Card, key: string): Promise<void>;
}

/** A chat's error, stripped of anything secret: the text goes into logs and the outbox's last error. */
export class ChatApiError extends Error {
  constructor(
    message: string,
    /** Permanent: retrying cannot help (user not found, bad token is retried: an operator may fix it). */
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'ChatApiError';
  }
}

/** Text of an error without any of the given secrets, printable and short. */
export function scrub(err: unknown, secrets: string[]): string {
  let m = String((err as Error)?.message ?? err);
  for (const x of secrets) if (x) m = m.split(x).join('[redacted]');
  return m.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
}
