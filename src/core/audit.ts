// The audit chain's rules: how a record is hashed, and how a chain is verified. Pure; storage supplies
// the rows and the signing key.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface ChainFields {
  seq: number;
  at: number;
  actor: string;
  actorId: number | null;
  channel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: string;
}

export interface ChainedRow extends ChainFields {
  id: number;
  prevHash: string | null;
  hash: string | null;
  sig: string | null;
}

export const GENESIS = '0'.repeat(64);

export function recordHash(prevHash: string, f: ChainFields): string {
  const canonical = JSON.stringify([f.seq, f.at, f.actor, f.actorId, f.channel, f.action, f.targetType, f.targetId, f.details]);
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}

export function sign(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(hash).digest('hex');
}

export type Breakage = 'edited' | 'deleted' | 'reordered' | 'inserted' | 'unsigned';

export interface VerifyResult {
  ok: boolean;
  records: number;
  legacy: number;
  problem?: { id: number; seq: number | null; kind: Breakage; detail: string };
}

/** Verifies rows in storage order (by id). Reports the first broken record and what happened to it. */
export function verifyChain(rows: ChainedRow[], key: Buffer): VerifyResult {
  let prev: ChainedRow | null = null;
  let legacy = 0;
  const fail = (r: ChainedRow, kind: Breakage, detail: string): VerifyResult => ({
    ok: false,
    records: rows.length,
    legacy,
    problem: { id: r.id, seq: r.seq, kind, detail },
  });
  const sigOk = (r: ChainedRow) => {
    if (!r.sig || !r.hash) return false;
    const want = Buffer.from(sign(key, r.hash), 'hex');
    const got = Buffer.from(r.sig, 'hex');
    return want.length === got.length && timingSafeEqual(want, got);
  };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.hash === null) {
      // Written before the chain existed: allowed only before the first chained record.
      if (prev) return fail(r, 'inserted', `record ${r.id} carries no hash inside the chain`);
      legacy++;
      continue;
    }
    const prevHash = prev?.hash ?? GENESIS;
    const expectedSeq = prev ? prev.seq + 1 : r.seq;
    const contentOk = recordHash(r.prevHash ?? GENESIS, r) === r.hash;
    const signed = sigOk(r);
    if (!contentOk || !signed) {
      // Content that no longer matches its hash was edited; a self-consistent record without a valid
      // signature was written by someone without the key (inserted, or replaced wholesale).
      const kind = contentOk ? 'inserted' : 'edited';
      return fail(
        r,
        kind,
        kind === 'edited'
          ? `record ${r.id} (seq ${r.seq}) was changed after it was written`
          : `record ${r.id} was not written by this installation`,
      );
    }
    if (r.seq !== expectedSeq || r.prevHash !== prevHash) {
      // Intact records out of place: the missing one appears later (reordered) or nowhere (deleted).
      const later = rows.slice(i + 1).some((x) => x.seq === expectedSeq);
      if (later || r.seq < expectedSeq)
        return fail(r, 'reordered', `record ${r.id} (seq ${r.seq}) stands where seq ${expectedSeq} belongs`);
      return fail(r, 'deleted', `${r.seq - expectedSeq} record(s) missing before record ${r.id} (seq ${expectedSeq}..${r.seq - 1})`);
    }
    prev = r;
  }
  return { ok: true, records: rows.length, legacy };
}
