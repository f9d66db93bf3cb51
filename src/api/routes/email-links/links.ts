// The mail link tokens: find one, and mark it used, dead or usable again. A link decides one level of
// one request, once, for the approver it was sent to.
import { mailDb } from '../../../notify/schema.js';
import { hashToken } from '../../../notify/tokens.js';
import type { Services } from '../../../services.js';

export type TokenRow = { token_hash: string; request_id: number; approver_id: number; action: 'approve' | 'reject'; level: number; used_at: number | null; dead_at: number | null };

const TOKEN = /^[A-Za-z0-9_-]{20,64}$/;

export function linkTokens(s: Services) {
  const db = mailDb(s);
  return {
    async lookup(token: string): Promise<TokenRow | undefined> {
      if (!TOKEN.test(token)) return undefined;
      return (await db.selectFrom('mail_link_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst()) as TokenRow | undefined;
    },
    async kill(t: TokenRow): Promise<void> {
      await db.updateTable('mail_link_tokens').set({ dead_at: Date.now() }).where('token_hash', '=', t.token_hash).execute();
    },
    /** Single use: one conditional update claims the token; a second POST finds it used. */
    async claim(t: TokenRow, now: number): Promise<boolean> {
      const claimed = await db.updateTable('mail_link_tokens').set({ used_at: now }).where('token_hash', '=', t.token_hash).where('used_at', 'is', null).where('dead_at', 'is', null).executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1;
    },
    /** Gives a claimed link back (the decision failed for a reason not the approver's). */
    async release(t: TokenRow): Promise<void> {
      await db.updateTable('mail_link_tokens').set({ used_at: null }).where('token_hash', '=', t.token_hash).execute();
    },
    /** The approver's other link for this level dies with their decision. */
    async killSiblings(t: TokenRow, now: number): Promise<void> {
      await db.updateTable('mail_link_tokens').set({ dead_at: now }).where('request_id', '=', t.request_id).where('approver_id', '=', t.approver_id).where('level', '=', t.level).where('dead_at', 'is', null).where('used_at', 'is', null).execute();
    },
  };
}

export type LinkTokens = ReturnType<typeof linkTokens>;
