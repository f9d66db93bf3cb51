// Background work of a running node: expiry and escalation sweeps, session checks, the node heartbeat
// and lost-node sweep, and (PostgreSQL) the notification listener. Every piece is safe to run on several
// nodes at once.
//
// With several worker processes (GATEHOUSE_WORKERS), the node's singletons (registration, heartbeat,
// sweeps, SIEM export, recording retention, directory sync, webhooks) run once, in the primary: it holds
// no listener, so no client can stall it, it outlives a worker's crash, and a restarted worker never
// registers the node again (which would end its sibling workers' sessions). Each worker runs only what is
// about its own process: its sessions' checks and the PostgreSQL wake-up of its event bus.
import { hostname } from 'node:os';
import { HEARTBEAT_MS, NodeService } from './core/nodes.js';
import type { Services } from './services.js';
import { startPgListener } from './storage/pg-notify.js';
import { SiemExporter, sinksFromConfig } from './export/siem.js';
import { Recordings } from './recording/service.js';
import { directoryOf } from './directory/index.js';
import { startWebhooks } from './notify/webhooks-worker.js';
import { startChat } from './notify/chat/worker.js';

/** `all`: one process does everything; `node`: the primary of several workers; `worker`: one of them. */
export type BackgroundRole = 'all' | 'node' | 'worker';

export interface Background {
  nodes: NodeService;
  exporters: SiemExporter[];
  stop(): Promise<void>;
}

function nodeServiceOf(s: Services): NodeService {
  return new NodeService(s.nodeStore, s.clock, { id: s.nodeId, host: hostname(), pid: process.pid, version: '0.1.0' }, (action, details) =>
    s.audit({ actor: 'system', channel: 'system', action, targetType: 'node', targetId: String(details.node), details }),
  );
}

/** The node's singletons: sweeps, heartbeat, SIEM export, retention, directory sync, webhooks. */
function startSingletons(s: Services, nodes: NodeService, exporters: SiemExporter[]) {
  const { log, config } = s;
  let exporting = false;
  const exportAudit = async () => {
    if (exporting) return;
    exporting = true;
    for (const ex of exporters) {
      await ex.drain();
      if (ex.lastError) log.warn({ sink: ex.sink.name, err: ex.lastError }, 'SIEM export failed; will retry');
    }
    exporting = false;
  };
  const recordings = new Recordings(s);
  void recordings.applyRetention().catch(() => {});
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const expired = await s.approvals.expireDue();
      const escalated = await s.approvals.escalateDue();
      if (expired || escalated) log.info({ expired, escalated }, 'sweeper');
      const down = await nodes.sweep();
      if (down.nodes.length) log.warn({ nodes: down.nodes, sessions: down.sessions }, 'nodes down: their sessions are marked lost');
      await s.store.pruneEvents(s.clock.now() - 24 * 3600_000);
    } catch (err) {
      log.warn({ err: String(err) }, 'sweeper failed; will retry');
    } finally {
      sweeping = false;
    }
  };
  const timers = [
    setInterval(() => void sweep(), config.sweepMs),
    setInterval(() => void exportAudit(), 1000),
    setInterval(
      () => void recordings.applyRetention().catch((err) => log.warn({ err: String(err) }, 'recording retention failed')),
      3600_000,
    ),
    setInterval(() => void nodes.heartbeat().catch((err) => log.warn({ err: String(err) }, 'heartbeat failed')), HEARTBEAT_MS),
  ];
  for (const t of timers) t.unref();
  void sweep();
  // Directory sync on its schedule (directory set --interval); one node at a time by a lease.
  const stopDirectorySync = directoryOf(s).directory.schedule(
    { username: 'system', id: null, channel: 'system' },
    (err) => log.warn({ err: String(err) }, 'directory sync failed; will retry'),
    (r) => r.applied && log.info({ summary: r.summary }, 'directory sync'),
  );

  // Audit log -> outboxes: signed webhook POSTs; Slack and Mattermost messages.
  const outboxes = [startWebhooks(s), startChat(s)];
  return async () => {
    for (const t of timers) clearInterval(t);
    for (const o of outboxes) await o.stop();
    stopDirectorySync();
    await exportAudit();
    for (const ex of exporters) await ex.sink.close();
  };
}

export async function startBackground(s: Services, role: BackgroundRole = 'all'): Promise<Background> {
  const { log, config } = s;
  const nodes = nodeServiceOf(s);
  if (role !== 'worker') {
    const lost = await nodes.register();
    if (lost) log.warn({ sessions: lost }, 'closed sessions this node held before it restarted');
  }
  // PostgreSQL: be woken by NOTIFY the moment another node commits an event (polling stays as the safety net).
  const pgListener = config.databaseUrl
    ? startPgListener(
        config.databaseUrl,
        () => void s.bus.kick(),
        (err) => log.warn({ err: String(err) }, 'event notification connection lost; reconnecting'),
      )
    : null;
  // SIEM export: each sink drains from its own durable cursor over the audit log.
  const exporters = role === 'worker' ? [] : sinksFromConfig(config).map((sink) => new SiemExporter(s.auditFeed, sink));
  const stopSingletons = role === 'worker' ? null : startSingletons(s, nodes, exporters);
  // The sessions this process holds (the primary of several workers holds none).
  const check = role === 'node' ? null : setInterval(() => void s.sessions.check().catch(() => {}), 1000);
  check?.unref();
  return {
    nodes,
    exporters,
    async stop() {
      if (check) clearInterval(check);
      await stopSingletons?.();
      await pgListener?.close();
      if (role !== 'worker') await nodes.stopped().catch(() => {});
    },
  };
}
