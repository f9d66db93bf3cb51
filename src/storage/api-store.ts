// The API's reads and writes (core/ports/api-store.ts): console sessions, API tokens, the approver index,
// and the list queries the console pages need (paginated by id, always on an index).
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ApiStore, ApiToken, ApprovalScope, AuditFilter } from '../core/ports/api-store.js';
import type { ApprovalRequest, ApprovalStatus } from '../core/types.js';
import type { ApprovalApproversTable, Database } from './schema.js';
import { toRequest } from './store.js';

export const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
const secretToken = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** Requests newer than the approver index's cursor, or created within this window (late commits), are (re)indexed. */
const LATE_COMMIT_WINDOW_MS = 30_000;
const RESYNC_MS = 5_000;

export class KyselyApiStore implements ApiStore {
  private indexedUpTo = -1;
  private indexing: Promise<void> | null = null;
  private dirty = true;
  private syncedAt = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  // ---- console sessions

  async createSession(
    userId: number,
    clientAddr: string | null,
    now: number,
    ttlMs: number,
    secondFactor = false,
  ): Promise<{ token: string; csrf: string; expiresAt: number }> {
    const token = secretToken('');
    const csrf = randomBytes(24).toString('base64url');
    const expiresAt = now + ttlMs;
    await this.db
      .insertInto('web_sessions')
      .values({
        id: sha256(token),
        user_id: userId,
        csrf_token: csrf,
        client_addr: clientAddr,
        created_at: now,
        expires_at: expiresAt,
        second_factor: secondFactor ? 1 : 0,
      })
      .execute();
    // Housekeeping: expired sessions go when anyone logs in.
    await this.db.deleteFrom('web_sessions').where('expires_at', '<', now).execute();
    return { token, csrf, expiresAt };
  }

  async findSession(token: string, now: number): Promise<{ userId: number; csrf: string; id: string; secondFactor: boolean } | undefined> {
    const r = await this.db
      .selectFrom('web_sessions')
      .select(['id', 'user_id', 'csrf_token', 'expires_at', 'second_factor'])
      .where('id', '=', sha256(token))
      .executeTakeFirst();
    if (!r || r.expires_at <= now) return undefined;
    return { id: r.id, userId: r.user_id, csrf: r.csrf_token, secondFactor: Number(r.second_factor) === 1 };
  }

  async sessionAlive(id: string, now: number): Promise<boolean> {
    const r = await this.db.selectFrom('web_sessions').select('expires_at').where('id', '=', id).executeTakeFirst();
    return !!r && r.expires_at > now;
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom('web_sessions').where('id', '=', id).execute();
  }

  // ---- API tokens

  async createToken(
    userId: number,
    name: string,
    now: number,
    expiresAt: number | null,
    secondFactor = false,
  ): Promise<{ token: string; row: ApiToken }> {
    const token = secretToken('ghp_');
    const row = await this.db
      .insertInto('api_tokens')
      .values({
        user_id: userId,
        name,
        token_hash: sha256(token),
        prefix: token.slice(0, 10),
        created_at: now,
        expires_at: expiresAt,
        last_used_at: null,
        revoked_at: null,
        second_factor: secondFactor ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token, row: toToken(row) };
  }

  async listTokens(userId: number): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').execute();
    return rows.map(toToken);
  }

  /** Revokes a token of `userId`; false when it is not theirs or already revoked. */
  async revokeToken(userId: number, id: number, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async findToken(token: string, now: number): Promise<ApiToken | undefined> {
    const r = await this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
    if (!r || r.revoked_at !== null || (r.expires_at !== null && r.expires_at <= now)) return undefined;
    // last_used_at is informational: written at most once a minute.
    if (r.last_used_at === null || now - r.last_used_at > 60_000)
      await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', r.id).execute();
    return toToken(r);
  }

  // ---- approvals

  markDirty(): void {
    this.dirty = true;
  }

  /**
   * Every request created since the last call gets one row per user its route names at any level.
   * Escalation adds the next level's approvers (already indexed) or the admins (who see everything), so
   * the index never needs updating after creation.
   */
  async syncApproverIndex(now: number): Promise<void> {
    while (this.indexing) await this.indexing;
    // Events mark the index dirty; without one, it is re-read at most every few seconds (a safety net).
    if (!this.dirty && now - this.syncedAt < RESYNC_MS && now >= this.syncedAt) return;
    this.dirty = false;
    this.syncedAt = now;
    this.indexing = (async () => {
      if (this.indexedUpTo < 0) {
        const m = await this.db
          .selectFrom('approval_approvers')
          .select((eb) => eb.fn.max('request_id').as('m'))
          .executeTakeFirst();
        this.indexedUpTo = Number(m?.m ?? 0);
      }
      let added = 0;
      for (;;) {
        // Two index range scans (an OR of both would scan the table).
        const cols = ['id', 'requester_id', 'route'] as const;
        const [fresh, recent] = await Promise.all([
          this.db.selectFrom('approval_requests').select(cols).where('id', '>', this.indexedUpTo).orderBy('id').limit(2000).execute(),
          this.db
            .selectFrom('approval_requests')
            .select(cols)
            .where('created_at', '>=', now - LATE_COMMIT_WINDOW_MS)
            .limit(2000)
            .execute(),
        ]);
        const rows = [...recent.filter((r) => r.id <= this.indexedUpTo), ...fresh];
        const values: ApprovalApproversTable[] = [];
        for (const r of rows) {
          const route = JSON.parse(r.route) as ApprovalRequest['route'];
          const ids = new Set(route.levels.flatMap((l) => [...l.approverIds, ...(l.escalatedApproverIds ?? [])]));
          ids.delete(r.requester_id);
          for (const u of ids) values.push({ request_id: r.id, user_id: u });
        }
        added += values.length;
        for (let i = 0; i < values.length; i += 400)
          await this.db
            .insertInto('approval_approvers')
            .values(values.slice(i, i + 400))
            .onConflict((oc) => oc.columns(['request_id', 'user_id']).doNothing())
            .execute();
        const max = fresh.length ? fresh[fresh.length - 1].id : this.indexedUpTo;
        const advanced = max > this.indexedUpTo;
        this.indexedUpTo = Math.max(this.indexedUpTo, max);
        if (fresh.length < 2000 || !advanced) break;
      }
      // A first backfill (an existing database) changes the table's size by orders of magnitude: give
      // PostgreSQL's planner fresh statistics now rather than at the next autovacuum.
      if (added > 10_000 && this.dialect === 'postgres') await sql`analyze approval_approvers`.execute(this.db);
    })()
      .catch((err) => {
        this.dirty = true;
        throw err;
      })
      .finally(() => {
        this.indexing = null;
      });
    await this.indexing;
  }

  async listApprovals(o: {
    scope: ApprovalScope;
    userId: number;
    approverIds: number[];
    admin: boolean;
    status?: ApprovalStatus;
    beforeId?: number;
    limit: number;
  }): Promise<ApprovalRequest[]> {
    if (o.scope === 'decided') {
      // Driven by the approver's own decisions, newest first (index approver_id, request_id): fast
      // whether they decided ten requests or forty thousand.
      let q = this.db
        .selectFrom('approval_decisions as d')
        .innerJoin('approval_requests as r', 'r.id', 'd.request_id')
        .selectAll('r')
        .where('d.approver_id', '=', o.userId)
        .orderBy('d.request_id', 'desc')
        .limit(o.limit);
      if (o.status) q = q.where('r.status', '=', o.status);
      if (o.beforeId !== undefined) q = q.where('d.request_id', '<', o.beforeId);
      const rows = (await q.execute()).map(toRequest);
      return rows.filter((r, i) => i === 0 || rows[i - 1].id !== r.id);
    }
    if (o.scope === 'to-decide' && !o.admin) return this.waitingFor(o.approverIds, o.beforeId, o.limit);
    let q = this.db.selectFrom('approval_requests as r').selectAll('r').orderBy('r.id', 'desc').limit(o.limit);
    if (o.scope === 'mine') q = q.where('r.requester_id', '=', o.userId);
    // Administrators may decide any waiting request but their own.
    if (o.scope === 'to-decide') q = q.where('r.status', '=', 'waiting').where('r.requester_id', '!=', o.userId);
    if (o.status) q = q.where('r.status', '=', o.status);
    if (o.beforeId !== undefined) q = q.where('r.id', '<', o.beforeId);
    return (await q.execute()).map(toRequest);
  }

  /**
   * Waiting requests naming one of `approverIds`, newest first. Walks the waiting requests' ids in
   * chunks (index status, id) and checks each chunk against the approver index by primary key, so the
   * cost follows how many requests wait, never an approver's whole history, on either database.
   */
  private async waitingFor(approverIds: number[], beforeId: number | undefined, limit: number): Promise<ApprovalRequest[]> {
    // Chunks start small (an approver usually is named on most waiting requests) and grow.
    let chunk = limit * 2;
    const found: number[] = [];
    let before = beforeId;
    while (found.length < limit) {
      const CHUNK = chunk;
      chunk = Math.min(chunk * 2, 2000);
      let q = this.db.selectFrom('approval_requests').select('id').where('status', '=', 'waiting').orderBy('id', 'desc').limit(CHUNK);
      if (before !== undefined) q = q.where('id', '<', before);
      const ids = (await q.execute()).map((r) => r.id);
      if (!ids.length) break;
      const named = new Set(
        (
          await this.db
            .selectFrom('approval_approvers')
            .select('request_id')
            .where('request_id', 'in', ids)
            .where('user_id', 'in', approverIds)
            .execute()
        ).map((r) => r.request_id),
      );
      for (const id of ids) if (named.has(id) && found.length < limit) found.push(id);
      if (ids.length < CHUNK) break;
      before = ids[ids.length - 1];
    }
    if (!found.length) return [];
    const rows = await this.db.selectFrom('approval_requests').selectAll().where('id', 'in', found).orderBy('id', 'desc').execute();
    return rows.map(toRequest);
  }

  async isNamedApprover(requestId: number, userIds: number[]): Promise<boolean> {
    if (!userIds.length) return false;
    const r = await this.db
      .selectFrom('approval_approvers')
      .select('request_id')
      .where('request_id', '=', requestId)
      .where('user_id', 'in', userIds)
      .executeTakeFirst();
    return !!r;
  }

  async hasDecided(requestId: number, userId: number): Promise<boolean> {
    const r = await this.db
      .selectFrom('approval_decisions')
      .select('id')
      .where('request_id', '=', requestId)
      .where('approver_id', '=', userId)
      .executeTakeFirst();
    return !!r;
  }

  // ---- sessions and audit

  async listSessions(o: { live?: boolean; userId?: number; approvalId?: number; beforeId?: number; limit: number }) {
    let q = this.db.selectFrom('sessions').selectAll().orderBy('id', 'desc').limit(o.limit);
    if (o.approvalId !== undefined) q = q.where('approval_id', '=', o.approvalId);
    if (o.live === true) q = q.where('ended_at', 'is', null);
    if (o.live === false) q = q.where('ended_at', 'is not', null);
    if (o.userId !== undefined) q = q.where('user_id', '=', o.userId);
    if (o.beforeId !== undefined) q = q.where('id', '<', o.beforeId);
    return q.execute();
  }

  async getSession(id: number) {
    return this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listAudit(f: AuditFilter) {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(f.limit);
    if (f.action) q = q.where('action', 'like', `${f.action.replace(/[%_\\]/g, '')}%`);
    if (f.actor) q = q.where('actor', '=', f.actor);
    if (f.targetType) q = q.where('target_type', '=', f.targetType);
    if (f.targetId) q = q.where('target_id', '=', f.targetId);
    if (f.channel) q = q.where('channel', '=', f.channel);
    if (f.from !== undefined) q = q.where('at', '>=', f.from);
    if (f.to !== undefined) q = q.where('at', '<', f.to);
    if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
    return q.execute();
  }

  async auditValues(max: number) {
    const distinct = async (col: 'action' | 'actor' | 'target_type') =>
      (await this.db.selectFrom('audit_log').select(col).distinct().where(col, 'is not', null).orderBy(col).limit(max).execute())
        .map((r) => String(r[col]))
        .filter(Boolean);
    return { actions: await distinct('action'), actors: await distinct('actor'), targetTypes: await distinct('target_type') };
  }
}

function toToken(r: {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  second_factor: number;
}): ApiToken {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    prefix: r.prefix,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    secondFactor: Number(r.second_factor) === 1,
  };
}
