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
    at,
    actor: e.actor,
    actor_id: e.actorId ?? null,
    channel: e.channel,
    action: e.action,
    target_type: e.targetType ?? null,
    target_id: e.targetId === undefined ? null : String(e.targetId),
    details: JSON.stringify(e.details ?? {}),
  };
}

/**
 * Appends one record. Inside a transaction it joins that transaction (the record commits with the
 * change it describes). Outside one, records that arrive together are written together: concurrent
 * appends (2,000 sessions starting at once each audit their start) are grouped into one transaction,
 * one chain read and one head update per group — the chain and every record are the same as one by one,
 * and each caller's promise resolves once its record is committed.
 */
export async function appendAudit(db: Kysely<Database>, key: Buffer, e: AuditEntry, at: number): Promise<void> {
  if (db.isTransaction) return appendChained(db, key, [{ e, at }]);
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new AuditBatcher(db, key)));
  return b.add(e, at);
}

/** Most records written in one group (bounded so one transaction stays short). */
const MAX_GROUP = 500;
const batchers = new WeakMap<Kysely<Database>, AuditBatcher>();

interface Pending {
  e: AuditEntry;
  at: number;
  done: (err?: unknown) => void;
}

class AuditBatcher {
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly key: Buffer,
  ) {}

  add(e: AuditEntry, at: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ e, at, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.running) {
        this.running = true;
        // Let the appends of this turn of the event loop join the group.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue.splice(0, MAX_GROUP);
      try {
        await this.db.transaction().execute((t) => appendChained(t, this.key, group));
        for (const p of group) p.done();
      } catch (err) {
        for (const p of group) p.done(err ?? new Error('audit append failed'));
      }
    }
    this.running = false;
  }
}

async function appendChained(db: Kysely<Database>, key: Buffer, entries: { e: AuditEntry; at: number }[]): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(db);
  const last = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .where('hash', 'is not', null)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const maxSeq = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.max('seq').as('m'))
    .executeTakeFirst();
  let seq = Number(maxSeq?.m ?? 0);
  let prevHash = last?.hash ?? GENESIS;
  const rows = entries.map(({ e, at }) => {
    seq++;
    const row = auditRow(e, at);
    const hash = recordHash(prevHash, {
      seq,
      at,
      actor: row.actor,
      actorId: row.actor_id,
      channel: row.channel,
      action: row.action,
      targetType: row.target_type,
      targetId: row.target_id,
      details: row.details,
    });
    const out = { ...row, seq, prev_hash: prevHash, hash, sig: sign(key, hash) };
    prevHash = hash;
    return out;
  });
  // Multi-row inserts, 50 rows (550 parameters) at a time.
  for (let i = 0; i < rows.length; i += 50)
    await db
      .insertInto('audit_log')
      .values(rows.slice(i, i + 50))
      .execute();
  const head = JSON.stringify({ seq, hash: prevHash, sig: sign(key, `head:${seq}:${prevHash}`) });
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
      rows.push({
        id: r.id,
        seq: r.seq ?? r.id,
        at: r.at,
        actor: r.actor,
        actorId: r.actor_id,
        channel: r.channel,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        details: r.details,
        prevHash: r.prev_hash,
        hash: r.hash,
        sig: r.sig,
      });
    after = page[page.length - 1].id;
    onProgress?.(rows.length);
  }
  const res = verifyChain(rows, key);
  if (!res.ok) return res;
  const headRow = await db.selectFrom('meta').select('value').where('key', '=', 'audit_head').executeTakeFirst();
  const lastChained = [...rows].reverse().find((r) => r.hash !== null);
  if (headRow) {
    const head = JSON.parse(headRow.value) as { seq: number; hash: string; sig: string };
    if (head.sig !== sign(key, `head:${head.seq}:${head.hash}`))
      return { ...res, ok: false, problem: { id: 0, seq: head.seq, kind: 'edited', detail: 'the signed head of the log was altered' } };
    if (!lastChained || lastChained.seq !== head.seq || lastChained.hash !== head.hash) {
      const lastSeq = lastChained?.seq ?? 0;
      return {
        ...res,
        ok: false,
        problem: {
          id: lastChained?.id ?? 0,
          seq: lastSeq,
          kind: 'deleted',
          detail: `the log ends at seq ${lastSeq} but its signed head is seq ${head.seq}: ${head.seq - lastSeq} record(s) cut off the end`,
        },
      };
    }
  }
  return res;
}
