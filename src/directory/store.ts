// The directory's storage port; storage/directory-store.ts implements it.
export type { DirectoryStore, Link, LinkKind, StoredConfig, TotpRow } from '../core/ports/directory-store.js';
