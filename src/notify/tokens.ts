// Link tokens (single use, bound to approver × request × action × level; stored only as a hash) and
// per-request reply secrets.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MailStore, MailTx } from '../core/ports/mail.js';

export const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');
export const newSecret = () => randomBytes(16).toString('hex');

export async function createToken(
  tx: Pick<MailTx, 'insertLinkToken'>,
  requestId: number,
  approverId: number,
  action: 'approve' | 'reject',
  level: number,
  now: number,
): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await tx.insertLinkToken({ tokenHash: hashToken(token), requestId, approverId, action, level }, now);
  return token;
}

/** The request's reply secret, created when first needed. Safe when two builders race. */
export function replySecret(tx: Pick<MailTx, 'replySecret'>, requestId: number, now: number): Promise<string> {
  return tx.replySecret(requestId, newSecret(), now);
}

export function lookupSecret(mail: Pick<MailStore, 'replySecretOf'>, requestId: number): Promise<string | undefined> {
  return mail.replySecretOf(requestId);
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Every link of a request dies when it is decided, expires, is cancelled or revoked. */
export function killTokens(
  tx: Pick<MailTx, 'killLinks'>,
  requestId: number,
  now: number,
  opts: { belowLevel?: number; approverId?: number } = {},
): Promise<void> {
  return tx.killLinks(requestId, now, opts);
}
