// Gateway nodes: a heartbeat per node; a node silent for NODE_DOWN_MS is down, and the sessions it held
// are marked ended ("node lost"). Several nodes may sweep at once: each change is a conditional update.
import type { Clock } from './ports/clock.js';

export const HEARTBEAT_MS = 5_000;
export const NODE_DOWN_MS = 30_000;

export interface NodeInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  lastSeen: number;
  status: 'up' | 'down' | 'stopped';
}

export interface NodeStorePort {
  upsertNode(n: NodeInfo): Promise<void>;
  touchNode(id: string, at: number): Promise<void>;
  /** Marks nodes silent since `before` as down; returns their ids (only those this call changed). */
  markDown(before: number): Promise<string[]>;
  /** Ends the live sessions of a node; returns how many. */
  endSessionsOf(nodeId: string, at: number, reason: string): Promise<number>;
  /** Ends the live sessions one worker process of a node held; returns how many. */
  endSessionsOfWorker(nodeId: string, pid: number, at: number, reason: string): Promise<number>;
  setStatus(id: string, status: NodeInfo['status']): Promise<void>;
  listNodes(): Promise<NodeInfo[]>;
  liveSessionCounts(): Promise<Map<string, number>>;
}

export class NodeService {
  constructor(
    private readonly store: NodeStorePort,
    private readonly clock: Clock,
    readonly self: Omit<NodeInfo, 'lastSeen' | 'status' | 'startedAt'>,
    private readonly audit: (action: string, details: Record<string, unknown>) => Promise<void>,
  ) {}

  /** At start: register, and close sessions a previous run of this same node left open (it crashed). */
  async register(): Promise<number> {
    const now = this.clock.now();
    await this.store.upsertNode({ ...this.self, startedAt: now, lastSeen: now, status: 'up' });
    const n = await this.store.endSessionsOf(this.self.id, now, 'node restarted: the session was lost');
    if (n) await this.audit('node.sessions-lost', { node: this.self.id, sessions: n, why: 'restart' });
    return n;
  }

  async heartbeat(): Promise<void> {
    await this.store.touchNode(this.self.id, this.clock.now());
  }

  /** Marks silent nodes down and their sessions lost. Safe on several nodes at once. */
  async sweep(): Promise<{ nodes: string[]; sessions: number }> {
    const now = this.clock.now();
    const down = (await this.store.markDown(now - NODE_DOWN_MS)).filter((id) => id !== this.self.id);
    let sessions = 0;
    for (const id of down) {
      const n = await this.store.endSessionsOf(id, now, 'node lost: no heartbeat for 30 s');
      sessions += n;
      await this.audit('node.down', { node: id, sessionsLost: n });
    }
    return { nodes: down, sessions };
  }

  /** A worker process of this node died: the sessions it held are lost (the node and its other workers go on). */
  async workerLost(pid: number): Promise<number> {
    const n = await this.store.endSessionsOfWorker(this.self.id, pid, this.clock.now(), 'worker process lost: the session was lost');
    if (n) await this.audit('node.sessions-lost', { node: this.self.id, sessions: n, why: 'worker lost', pid });
    return n;
  }

  async stopped(): Promise<void> {
    await this.store.setStatus(this.self.id, 'stopped');
  }

  async list(): Promise<(NodeInfo & { liveSessions: number; self: boolean })[]> {
    const now = this.clock.now();
    const counts = await this.store.liveSessionCounts();
    return (await this.store.listNodes()).map((n) => ({
      ...n,
      status: n.status === 'up' && now - n.lastSeen > NODE_DOWN_MS ? 'down' : n.status,
      liveSessions: counts.get(n.id) ?? 0,
      self: n.id === this.self.id,
    }));
  }
}
