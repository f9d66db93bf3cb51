import type { Kysely } from 'kysely';
import type { NodeInfo, NodeStorePort } from '../core/nodes.js';
import type { Database } from './schema.js';

export class KyselyNodeStore implements NodeStorePort {
  constructor(private readonly db: Kysely<Database>) {}

  async upsertNode(n: NodeInfo) {
    const row = {
      id: n.id,
      host: n.host,
      pid: n.pid,
      version: n.version,
      started_at: n.startedAt,
      last_seen: n.lastSeen,
      status: n.status,
    };
    await this.db
      .insertInto('nodes')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet({ host: n.host, pid: n.pid, version: n.version, started_at: n.startedAt, last_seen: n.lastSeen, status: n.status }),
      )
      .execute();
  }

  async touchNode(id: string, at: number) {
    await this.db.updateTable('nodes').set({ last_seen: at, status: 'up' }).where('id', '=', id).execute();
  }

  async markDown(before: number) {
    const stale = await this.db.selectFrom('nodes').select('id').where('status', '=', 'up').where('last_seen', '<', before).execute();
    const changed: string[] = [];
    for (const { id } of stale) {
      // Conditional: only the sweeper whose update applies reports (and audits) the node going down.
      const r = await this.db
        .updateTable('nodes')
        .set({ status: 'down' })
        .where('id', '=', id)
        .where('status', '=', 'up')
        .where('last_seen', '<', before)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) changed.push(id);
    }
    return changed;
  }

  async endSessionsOf(nodeId: string, at: number, reason: string) {
    const r = await this.db
      .updateTable('sessions')
      .set({ ended_at: at, end_reason: reason })
      .where('node_id', '=', nodeId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async endSessionsOfWorker(nodeId: string, pid: number, at: number, reason: string) {
    const r = await this.db
      .updateTable('sessions')
      .set({ ended_at: at, end_reason: reason })
      .where('node_id', '=', nodeId)
      .where('worker_pid', '=', pid)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async setStatus(id: string, status: NodeInfo['status']) {
    await this.db.updateTable('nodes').set({ status }).where('id', '=', id).execute();
  }

  async listNodes(): Promise<NodeInfo[]> {
    const rows = await this.db.selectFrom('nodes').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      version: r.version,
      startedAt: r.started_at,
      lastSeen: r.last_seen,
      status: r.status as NodeInfo['status'],
    }));
  }

  async liveSessionCounts() {
    const rows = await this.db
      .selectFrom('sessions')
      .select(['node_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('ended_at', 'is', null)
      .groupBy('node_id')
      .execute();
    return new Map(rows.map((r) => [r.node_id, Number(r.n)]));
  }
}
