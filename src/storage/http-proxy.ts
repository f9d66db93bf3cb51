// The HTTP proxy's rows: one-time login tokens (by hash, consumed by one conditional update), request
// figures per session, and the devices' options its per-device settings come from.
import type { Kysely } from 'kysely';
import type {
  DeviceOptionsRepository,
  HttpLoginTokenRepository,
  HttpSessionFigures,
  HttpSessionStatsRepository,
  NewHttpLoginToken,
} from '../core/ports/http-proxy.js';
import type { ProtocolDatabase } from './protocol-tables.js';

export class KyselyHttpLoginTokens implements HttpLoginTokenRepository {
  constructor(private readonly db: Kysely<ProtocolDatabase>) {}

  async insert(t: NewHttpLoginToken): Promise<void> {
    await this.db
      .insertInto('http_login_tokens')
      .values({ token_hash: t.tokenHash, user_id: t.userId, host: t.host, created_at: t.createdAt, expires_at: t.expiresAt, used_at: null })
      .execute();
  }

  async pruneExpired(before: number): Promise<void> {
    await this.db.deleteFrom('http_login_tokens').where('expires_at', '<', before).execute();
  }

  async consume(tokenHash: string, host: string, now: number): Promise<number | null> {
    const row = await this.db
      .updateTable('http_login_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where('host', '=', host)
      .returning('user_id')
      .executeTakeFirst();
    return row ? row.user_id : null;
  }
}

export class KyselyHttpSessionStats implements HttpSessionStatsRepository {
  constructor(private readonly db: Kysely<ProtocolDatabase>) {}

  async save(sessionId: number, f: HttpSessionFigures): Promise<void> {
    await this.db
      .insertInto('http_session_stats')
      .values({ session_id: sessionId, requests: f.requests, first_request_at: f.firstRequestAt, last_request_at: f.lastRequestAt })
      .onConflict((oc) => oc.column('session_id').doUpdateSet({ requests: f.requests, last_request_at: f.lastRequestAt }))
      .execute();
  }
}

export class KyselyDeviceOptions implements DeviceOptionsRepository {
  constructor(private readonly db: Kysely<ProtocolDatabase>) {}

  all(): Promise<{ id: number; options: string | null }[]> {
    return this.db.selectFrom('devices').select(['id', 'options']).execute();
  }

  async byName(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('devices').select('options').where('name', '=', name).executeTakeFirst();
    return row?.options;
  }
}
