// Appends to the hash-chained, signed audit log. Every audit write in the code goes through here.
// Appends are serialised (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped
// advisory lock) so the chain has no forks, and each append runs in the transaction of the change it records.
import { createHmac } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { GENESIS, recordHash, sign, verifyChain, type ChainedRow, type VerifyResult } from '../core/audit.js';
import type { AuditEntry } from '../core/types.js';
import type { Database } from './schema.js';

const AUDIT_LOCK = 7272001;

/** The signing key: derived from the vault key, so it lives only where the vault key lives. */
export function auditKeyFrom(vaultKey: string): Buffer {
  return createHmac('sha256', vaultKey).update('gatehouse-audit-chain-v1').digest();
}

export function auditRow(e: AuditEntry, at: number) {
  return {
    at, actor: e.actor, actor_id: e.actorId ?? null, channel: e.channel, action: e.action, target_type: e.targetType ?? null,
    target_id: e.targetId === undefined ? null : String(e.targetId), details: JSON.stringify(e.details ?? {}),
  };
}

export async function appendAudit(db: Kysely<Database>, key: Buffer, e: AuditEntry, at: number): Promise<void> {
  if (!db.isTransaction) return db.transaction().execute((t) => appendAudit(t, key, e, at));
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(db);
  const last = await db.selectFrom('audit_log').select(['seq', 'hash']).where('hash', 'is not', null).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const maxSeq = await db.selectFrom('audit_log').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  const seq = Number(maxSeq?.m ?? 0) + 1;
  const prevHash = last?.hash ?? GENESIS;
  const row = auditRow(e, at);
  const hash = recordHash(prevHash, { seq, at, actor: row.actor, actorId: row.actor_id, channel: row.channel, action: row.action, targetType: row.target_type, targetId: row.target_id, details: row.details });
  const sig = sign(key, hash);
  await db.insertInto('audit_log').values({ ...row, seq, prev_hash: prevHash, hash, sig }).execute();
  const head = JSON.stringify({ seq, hash, sig: sign(key, `head:${seq}:${hash}`) });
  await db
    .insertInto('meta')
    .values({ key: 'audit_head', value: head })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: head }))
    .execute();
}

/** Reads the whole log in storage order and verifies it, including the signed head (a cut-off tail). */
export async function verifyAuditLog(db: Kysely<Database>, key: Buffer, onProgress?: (n: number) => void): Promise<VerifyResult> {
  const rows: ChainedRow[] = [];
  let after = 0;
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('id', '>', after).orderBy('id').limit(20_000).execute();
    if (!page.length) break;
    for (const r of page)
      rows.push({ id: r.id, seq: r.seq ?? r.id, at: r.at, actor: r.actor, actorId: r.actor_id, channel: r.channel, action: r.action, targetType: r.target_type, targetId: r.target_id, details: r.details, prevHash: r.prev_hash, hash: r.hash, sig: r.sig });
    after = page[page.length - 1].id;
    onProgress?.(rows.length);
  }
  const res = verifyChain(rows, key);
  if (!res.ok) return res;
  const headRow = await db.selectFrom('meta').select('value').where('key', '=', 'audit_head').executeTakeFirst();
  const lastChained = [...rows].reverse().find((r) => r.hash !== null);
  if (headRow) {
    const head = JSON.parse(headRow.value) as { seq: number; hash: string; sig: string };
    if (head.sig !== sign(key, `head:${head.seq}:${head.hash}`)) return { ...res, ok: false, problem: { id: 0, seq: head.seq, kind: 'edited', detail: 'the signed head of the log was altered' } };
    if (!lastChained || lastChained.seq !== head.seq || lastChained.hash !== head.hash) {
      const lastSeq = lastChained?.seq ?? 0;
      return { ...res, ok: false, problem: { id: lastChained?.id ?? 0, seq: lastSeq, kind: 'deleted', detail: `the log ends at seq ${lastSeq} but its signed head is seq ${head.seq}: ${head.seq - lastSeq} record(s) cut off the end` } };
    }
  }
  return res;
}
