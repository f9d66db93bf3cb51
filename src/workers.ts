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
  /** The node's /metrics text from every worker's part (opaque here) and the primary's own. */
  metrics(workerParts: unknown[]): Promise<string>;
}

/**
 * 'events': a worker committed approval events; the others poll at once instead of at their next interval.
 * 'metrics': a worker was scraped; the primary asks every worker for its part ('part') and answers the text.
 */
type ToPrimary =
  { type: 'ready'; ports: Ports } | { type: 'events' } | { type: 'metrics'; id: number } | { type: 'part'; id: number; part: unknown };
type ToWorker =
  { type: 'stop' } | { type: 'events' } | { type: 'part'; id: number } | { type: 'metrics'; id: number; text?: string; error?: string };

/** How long the stop waits for the workers' own orderly stop before killing them. */
const WORKER_STOP_MS = 4000;
/** A worker that dies sooner than this after its start is restarted after a growing delay (a crash loop). */
const STABLE_MS = 10_000;
const RESTART_MAX_MS = 30_000;
/** How long the node's /metrics waits for every worker's part. */
const METRICS_WAIT_MS = 3000;

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
 * The node's /metrics: asks every live worker for its part, then merges them with the primary's own. A
 * worker that does not answer in time, or cannot make its part, fails the scrape (a partial sum would look
 * like a drop).
 */
function nodeMetrics(live: Set<Worker>, merge: PrimaryParts['metrics']) {
  const gathering = new Map<number, (w: Worker, part: unknown) => void>();
  let nextId = 0;
  const gather = () =>
    new Promise<unknown[]>((resolve, reject) => {
      const id = nextId++;
      const waiting = new Set([...live].filter((w) => w.isConnected()));
      const parts: unknown[] = [];
      const timer = setTimeout(() => {
        gathering.delete(id);
        reject(new Error(`${waiting.size} of the node's worker processes did not give their metrics within ${METRICS_WAIT_MS} ms`));
      }, METRICS_WAIT_MS);
      const settle = () => {
        if (waiting.size) return;
        clearTimeout(timer);
        gathering.delete(id);
        resolve(parts);
      };
      gathering.set(id, (w, part) => {
        if (part === null) {
          clearTimeout(timer);
          gathering.delete(id);
          return reject(new Error('a worker process could not make its metrics'));
        }
        if (waiting.delete(w)) parts.push(part);
        settle();
      });
      for (const w of waiting) w.send({ type: 'part', id } satisfies ToWorker);
      settle();
    });
  // Scrapes that arrive while one is gathered share its answer: /metrics needs no login, so a flood of
  // scrapes costs one round of parts at a time.
  let inflight: Promise<string> | null = null;
  const scrape = async (asker: Worker, id: number) => {
    inflight ??= gather()
      .then(merge)
      .finally(() => (inflight = null));
    const answer: ToWorker = await inflight.then(
      (text) => ({ type: 'metrics', id, text }),
      (err: Error) => ({ type: 'metrics', id, error: err.message }),
    );
    if (asker.isConnected()) asker.send(answer);
  };
  return { scrape, onPart: (w: Worker, id: number, part: unknown) => gathering.get(id)?.(w, part) };
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
  const { scrape, onPart } = nodeMetrics(live, p.metrics);
  const spawn = (delayMs: number) => {
    const startedAt = Date.now();
    const { worker, ready } = forkOne(env);
    live.add(worker);
    worker.on('message', (m: ToPrimary) => {
      if (m?.type === 'metrics') return void scrape(worker, m.id);
      if (m?.type === 'part') return onPart(worker, m.id, m.part);
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
export function runWorker(
  ports: Ports,
  stop: () => void,
  bus: { kick(): Promise<void>; onWrite(fn: () => void): void },
  metrics: { part(): Promise<unknown>; nodeWide?: () => Promise<string> },
): void {
  const asked = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  let nextId = 0;
  process.on('message', (m: ToWorker) => {
    if (m?.type === 'stop') stop();
    if (m?.type === 'events') void bus.kick();
    if (m?.type === 'part')
      void metrics.part().then(
        (part) => process.send?.({ type: 'part', id: m.id, part } satisfies ToPrimary),
        // No part (its database read failed): the scrape fails, rather than show this worker's counts dropped.
        () => process.send?.({ type: 'part', id: m.id, part: null } satisfies ToPrimary),
      );
    if (m?.type === 'metrics') {
      const a = asked.get(m.id);
      asked.delete(m.id);
      if (m.text !== undefined) a?.resolve(m.text);
      else a?.reject(new Error(m.error ?? 'no answer'));
    }
  });
  metrics.nodeWide = () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        asked.delete(id);
        reject(new Error('the primary process did not answer for the node'));
      }, METRICS_WAIT_MS + 2000);
      const done = () => clearTimeout(timer);
      asked.set(id, {
        resolve: (text) => (done(), resolve(text)),
        reject: (err) => (done(), reject(err)),
      });
      process.send?.({ type: 'metrics', id } satisfies ToPrimary);
    });
  bus.onWrite(() => process.send?.({ type: 'events' } satisfies ToPrimary));
  process.send?.({ type: 'ready', ports } satisfies ToPrimary);
}
