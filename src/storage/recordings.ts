// A session's recording path and its deletion by retention, on the session row.
import type { Kysely } from 'kysely';
import type { RecordingRepository } from '../core/ports/recordings.js';
import type { Database } from './schema.js';

export class KyselyRecordings implements RecordingRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async attach(sessionId: number, path: string): Promise<void> {
    await this.db.updateTable('sessions').set({ recording: path }).where('id', '=', sessionId).execute();
  }

  async find(sessionId: number): Promise<{ path: string | null; deletedAt: number | null } | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select(['recording', 'recording_deleted_at'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row ? { path: row.recording, deletedAt: row.recording_deleted_at } : undefined;
  }

  async markDeleted(sessionId: number, path: string, at: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ recording_deleted_at: at })
      .where('id', '=', sessionId)
      .where('recording', '=', path)
      .execute();
  }
}
