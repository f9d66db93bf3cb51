// The mail link tokens: find one, and mark it used, dead or usable again. A link decides one level of
// one request, once, for the approver it was sent to.
import type { LinkTokenRow } from '../../../core/ports/mail.js';
import { hashToken } from '../../../notify/tokens.js';
import type { Services } from '../../../services.js';

export type TokenRow = LinkTokenRow;

const TOKEN = /^[A-Za-z0-9_-]{20,64}$/;

export function linkTokens(s: Services) {
  return {
    async lookup(token: string): Promise<TokenRow | undefined> {
      if (!TOKEN.test(token)) return undefined;
      return s.mail.linkToken(hashToken(token));
    },
    async kill(t: TokenRow): Promise<void> {
      await s.mail.killLink(t.token_hash, Date.now());
    },
    /** Single use: one conditional update claims the token; a second POST finds it used. */
    claim: (t: TokenRow, now: number): Promise<boolean> => s.mail.useLink(t.token_hash, now),
    /** Gives a claimed link back (the decision failed for a reason not the approver's). */
    release: (t: TokenRow): Promise<void> => s.mail.unuseLink(t.token_hash),
    /** The approver's other link for this level dies with their decision. */
    killSiblings: (t: TokenRow, now: number): Promise<void> => s.mail.killApproverLinks(t.request_id, t.approver_id, t.level, now),
  };
}

export type LinkTokens = ReturnType<typeof linkTokens>;
