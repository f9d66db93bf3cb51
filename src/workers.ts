// Several listener processes on one node (GATEHOUSE_WORKERS, node:cluster). The primary holds no listener:
// it migrates the database, registers the node (one row in `nodes`, one heartbeat), runs the node's
// background singletons, forks the workers and restarts one that dies. Each worker runs every listener on
// the same ports (the primary accepts connections and hands them out in turn) and shares decisions with
// its siblings through the database's events, as nodes do. This file knows no protocol: main.ts passes in
// how to start one process.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './log.js';

/** Ports a worker listens on, by config key (webPort, sshPort, ...). */
export type Ports = Record<string, number>;

/** What the primary runs itself: the node's background work over its own services. */
export interface PrimaryParts {
  log: Logger;
  nodeId: string;
  /** Called once every first worker listens, with their ports: the admin is made, the config names the real ports. */
  ready(ports: Ports): Promise<void>;
  /** A worker process died: the sessions it held are ended. */
  workerLost(pid: number): Promise<void>;
  /** A worker committed approval events: the primary's own bus polls now. */
  onEvents(): void;
}

/** 'events': a worker committed approval events; the others poll at once instead of at their next interval. */
type ToPrimary = { type: 'ready'; ports: Ports } | { type: 'events' };
type ToWorker = { type: 'stop' } | { type: 'events' };

/** How long the stop waits for the workers' own orderly stop before killing them. */
const WORKER_STOP_MS = 4000;
/** A worker that dies sooner than this after its start is restarted after a growing delay (a crash loop). */
const STABLE_MS = 10_000;
const RESTART_MAX_MS = 30_000;

export const isWorker = () => cluster.isWorker;

/** Whether this process can fork copies of itself: cluster re-runs the entry script, which `node -e` has not. */
export const canFork = () => Boolean(process.argv[1]);

/** Forks one worker and resolves with its ports once it listens; rejects when it exits first. */
function forkOne(env: Record<string, string>): { worker: Worker; ready: Promise<Ports> } {
  const worker = cluster.fork(env);
  const ready = new Promise<Ports>((resolve, reject) => {
    worker.on('message', (m: ToPrimary) => {
      if (m?.type === 'ready') resolve(m.ports);
    });
    worker.once('exit', (code, signal) => reject(new Error(`a worker process exited while starting (${signal ?? `code ${code}`})`)));
  });
  ready.catch(() => {});
  return { worker, ready };
}

/** Waits for a worker to exit, killing it after `ms`. */
function exited(w: Worker, ms: number): Promise<void> {
  if (w.process.exitCode !== null || w.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => w.process.kill('SIGKILL'), ms);
    w.process.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
  });
}

/**
 * The primary: forks `count` workers, restarts any that dies, and stops them all before its own work. The
 * first-run admin is made once they all listen. A port configured as 0 stays 0 for every worker: cluster
 * hands each the same listening socket, so they all get the same port.
 */
export function runPrimary(
  count: number,
  p: PrimaryParts,
): { started: Promise<void>; pids(): number[]; stop(): Promise<void>; eventsWritten(): void } {
  const env: Record<string, string> = { GATEHOUSE_NODE_ID: p.nodeId };
  const live = new Set<Worker>();
  // Until every first worker is up, a death fails the start instead of being restarted.
  let up = false;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const w of live) if (w.isConnected()) w.send({ type: 'stop' } satisfies ToWorker);
    await Promise.all([...live].map((w) => exited(w, WORKER_STOP_MS)));
  };
  const spawn = (delayMs: number) => {
    const startedAt = Date.now();
    const { worker, ready } = forkOne(env);
    live.add(worker);
    worker.on('message', (m: ToPrimary) => {
      if (m?.type !== 'events') return;
      p.onEvents();
      for (const w of live) if (w !== worker && w.isConnected()) w.send({ type: 'events' } satisfies ToWorker);
    });
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      if (stopping || !up) return;
      const pid = worker.process.pid ?? 0;
      const next = Date.now() - startedAt < STABLE_MS ? Math.min(Math.max(delayMs * 2, 500), RESTART_MAX_MS) : 0;
      p.log.error({ worker: pid, code, signal, restartInMs: next }, 'a worker process died: its sessions are lost; restarting it');
      void p.workerLost(pid).catch((err) => p.log.warn({ err: String(err) }, 'could not end the lost worker’s sessions'));
      setTimeout(() => stopping || spawn(next), next).unref();
    });
    return ready;
  };
  const started = (async () => {
    try {
      // All at once: a slow start (loading every module) is paid once, not once per worker.
      const ports = await Promise.all(Array.from({ length: count }, () => spawn(0)));
      if (stopping) return;
      await p.ready(ports[0]);
      up = true;
    } catch (err) {
      await stop();
      throw err;
    }
  })();
  // The primary's own commits (sweeps: expiry, escalation) reach every worker's bus at once too.
  const eventsWritten = () => {
    for (const w of live) if (w.isConnected()) w.send({ type: 'events' } satisfies ToWorker);
  };
  return { started, pids: () => [...live].map((w) => w.process.pid ?? 0), stop, eventsWritten };
}

/**
 * A worker: tells the primary its ports, and stops in order when the primary says so. `bus` polls at once
 * when another worker committed events, and tells the others when this one does.
 */
export function runWorker(ports: Ports, stop: () => void, bus: { kick(): Promise<void>; onWrite(fn: () => void): void }): void {
  process.on('message', (m: ToWorker) => {
    if (m?.type === 'stop') stop();
    if (m?.type === 'events') void bus.kick();
  });
  bus.onWrite(() => process.send?.({ type: 'events' } satisfies ToPrimary));
  process.send?.({ type: 'ready', ports } satisfies ToPrimary);
}
