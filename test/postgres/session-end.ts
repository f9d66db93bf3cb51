// "Revocation or the grant's end closes the session within 1 s", read from the gateway's own timestamps
// (the request's grant end, set to the revocation time by a revoke, and the session's ended_at), so a
// busy test machine that is slow to run the client does not blur the product's figure.
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { dbOf } from '../helpers/kysely.js';
import { waitFor } from '../helpers/wait.js';

/** The product's bound between the revocation (or the grant's end) and the session's end. */
export const CLOSE_WITHIN_MS = 1000;

export interface SessionEnd {
  startedAt: number;
  endedAt: number;
  endReason: string;
  /** When the grant ended: the window's end, or the revocation time. */
  grantEnd: number;
  /** endedAt - grantEnd. */
  lateMs: number;
}

/**
 * alice's reservation for `device` over `protocol`, from now for `ms`, approved by bob: a short, exact
 * window, long enough for a client to log in on a loaded machine. Resolves with the request's id.
 */
export async function approvedWindow(s: Services, device: string, protocol: 'postgres' | 'mysql', ms: number): Promise<number> {
  const now = Date.now();
  const req = await s.approvals.request({
    username: 'alice',
    device,
    protocol,
    reason: 'short job',
    channel: 'cli',
    start: now,
    end: now + ms,
  });
  if (req.outcome === 'allowed') throw new Error('the reservation was allowed without approval');
  await s.approvals.approve(req.request.id, 'bob', { channel: 'cli', proof: 'operator' });
  return req.request.id;
}

/** The latest session under `approvalId`, once the gateway has recorded its end. */
export async function sessionEnd(s: Services, approvalId: number): Promise<SessionEnd> {
  const grantEnd = (await s.approvals.get(approvalId))?.grantEnd;
  if (grantEnd === null || grantEnd === undefined) throw new Error(`request #${approvalId} has no grant end`);
  const row = await waitFor(
    `the end of the session under request #${approvalId}`,
    async () => {
      const r = await dbOf(s)
        .selectFrom('sessions')
        .select(['started_at', 'ended_at', 'end_reason'])
        .where('approval_id', '=', approvalId)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return r?.ended_at !== null && r?.ended_at !== undefined ? r : undefined;
    },
    10_000,
    50,
  );
  const endedAt = row.ended_at!;
  return { startedAt: row.started_at, endedAt, endReason: row.end_reason ?? '', grantEnd, lateMs: endedAt - grantEnd };
}

/**
 * Services of their own on the gateway's database (its env), as another worker, node or the CLI has: a
 * decision made there reaches the gateway through the event bus's poll, not this process's shortcut.
 */
export async function otherProcess(env: Record<string, string>): Promise<Services> {
  return openServices(loadConfig(env), makeLogger('silent'));
}
