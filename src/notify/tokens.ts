// Link tokens (single use, bound to approver × request × action × level; stored only as a hash) and
// per-request reply secrets.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';
import type { MailTables } from './schema.js';

type Db = Kysely<Database & MailTables>;

export const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');
export const newSecret = () => randomBytes(16).toString('hex');

export async function createToken(db: Db, requestId: number, approverId: number, action: 'approve' | 'reject', level: number, now: number): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await db.insertInto('mail_link_tokens').values({ token_hash: hashToken(token), request_id: requestId, approver_id: approverId, action, level, created_at: now, used_at: null, dead_at: null }).execute();
  return token;
}

/** The request's reply secret, created when first needed. Safe when two builders race. */
export async function replySecret(db: Db, requestId: number, now: number): Promise<string> {
  const got = await db.selectFrom('mail_reply_secrets').select('secret').where('request_id', '=', requestId).executeTakeFirst();
  if (got) return got.secret;
  await db.insertInto('mail_reply_secrets').values({ request_id: requestId, secret: newSecret(), created_at: now }).onConflict((oc) => oc.column('request_id').doNothing()).execute();
  const row = await db.selectFrom('mail_reply_secrets').select('secret').where('request_id', '=', requestId).executeTakeFirstOrThrow();
  return row.secret;
}

export async function lookupSecret(db: Db, requestId: number): Promise<string | undefined> {
  return (await db.selectFrom('mail_reply_secrets').select('secret').where('request_id', '=', requestId).executeTakeFirst())?.secret;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Every link of a request dies when it is decided, expires, is cancelled or revoked. */
export async function killTokens(db: Db, requestId: number, now: number, opts: { belowLevel?: number; approverId?: number } = {}): Promise<void> {
  let q = db.updateTable('mail_link_tokens').set({ dead_at: now }).where('request_id', '=', requestId).where('dead_at', 'is', null);
  if (opts.belowLevel !== undefined) q = q.where('level', '<', opts.belowLevel);
  if (opts.approverId !== undefined) q = q.where('approver_id', '=', opts.approverId);
  await q.execute();
}
