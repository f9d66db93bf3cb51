// API tokens as their owner sees them.
import { iso } from './time.js';

/** An API token as its owner sees it: never the token itself (shown once, at creation) nor its hash. */
export function presentToken(t: {
  id: number;
  name: string;
  prefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  secondFactor: boolean;
}) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
    secondFactor: t.secondFactor,
  };
}
