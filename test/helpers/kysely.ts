// Direct database access for tests that check rows no port exposes.
import type { Kysely } from 'kysely';
import type { Store } from '../../src/core/ports/store.js';
import type { Database } from '../../src/storage/schema.js';
import { kyselyOf, KyselyStore } from '../../src/storage/store.js';

export function dbOf(s: { store: Store }): Kysely<Database> {
  return kyselyOf(s.store);
}

/** The mail tables are part of Database: the same handle. */
export const mailDb = dbOf;

export function kyselyStoreOf(s: { store: Store }): KyselyStore {
  if (!(s.store instanceof KyselyStore)) throw new Error('this store is not backed by Kysely');
  return s.store;
}

/** The key that signs the audit chain. */
export function auditKeyOf(s: { store: Store }): Buffer {
  return kyselyStoreOf(s).auditKey;
}
