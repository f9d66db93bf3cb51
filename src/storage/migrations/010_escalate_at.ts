import type { Kysely } from 'kysely';

// When the current level of a waiting request escalates, so the escalation timer reads only the due ones.
export function migration010(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('approval_requests').addColumn('escalate_at', 'bigint').execute();
      const waiting = await db
        .selectFrom('approval_requests')
        .select(['id', 'route', 'current_level', 'level_started_at'])
        .where('status', '=', 'waiting')
        .execute();
      for (const r of waiting) {
        const level = JSON.parse(r.route).levels?.[r.current_level];
        if (level?.escalateAfterMinutes && !level.escalatedApproverIds)
          await db
            .updateTable('approval_requests')
            .set({ escalate_at: Number(r.level_started_at) + level.escalateAfterMinutes * 60_000 })
            .where('id', '=', r.id)
            .execute();
      }
      await db.schema.createIndex('approval_requests_escalate').on('approval_requests').columns(['status', 'escalate_at']).execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('approval_requests_escalate').execute();
      await db.schema.alterTable('approval_requests').dropColumn('escalate_at').execute();
    },
  };
}
