// The chat outbox. The builder follows the audit log from its own cursor and queues (or re-queues) one
// job per provider × request for every approval transition, whichever node, process or the CLI made it;
// the cursor moves in the same transaction, by conditional update. The worker claims due jobs with a
// conditional update and a lease, brings the request's messages up to date (sync.ts), and retries with
// exponential backoff while the chat is down, so an outage delays messages but loses none.
import { randomBytes } from 'node:crypto';
import type { ChatJob, ChatProvider } from '../../core/ports/chat.js';
import type { Services } from '../../services.js';
import { ChatApiError } from './api.js';
import { providerOf, type Provider } from './settings.js';
import { syncRequest } from './sync.js';

export interface ChatOptions {
  pollMs: number;
  /** A claimed job is someone else's to retry once this passes. */
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts before a job is marked failed (the next event about the request queues it again). */
  maxAttempts: number;
  concurrency: number;
}

/** 10 s doubling to 15 min (plus up to 10% jitter); failed after about 4 hours of outage. */
export const CHAT_DEFAULTS: ChatOptions = {
  pollMs: 1000,
  leaseMs: 60_000,
  retryBaseMs: 10_000,
  retryMaxMs: 900_000,
  maxAttempts: 24,
  concurrency: 4,
};

const BATCH = 200;
const KEEP_MS = 30 * 24 * 3600_000;

export function chatBackoffMs(o: Pick<ChatOptions, 'retryBaseMs' | 'retryMaxMs'>, attempts: number): number {
  const base = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return base + Math.floor(Math.random() * base * 0.1);
}

/** Audit records -> jobs. Safe on any number of nodes at once. */
export async function buildChatJobs(s: Services): Promise<number> {
  let queued = 0;
  for (let round = 0; round < 20; round++) {
    const from = await s.chat.cursor();
    const recs = await s.chat.auditAfter(from, BATCH);
    if (!recs.length) break;
    const providers = (await s.chat.settings()).map((x) => x.provider);
    const ids = new Set<number>();
    for (const r of recs)
      if (r.targetType === 'approval' && r.action.startsWith('approval.') && Number.isSafeInteger(Number(r.targetId)))
        ids.add(Number(r.targetId));
    const jobs = providers.flatMap((provider) => [...ids].map((requestId) => ({ provider, requestId })));
    if (await s.chat.queue(from, recs[recs.length - 1].seq!, jobs, Date.now())) queued += jobs.length;
    if (recs.length < BATCH) break;
  }
  return queued;
}

export class ChatWorker {
  private readonly owner: string;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private lastPrune = 0;
  lastError: unknown = null;

  constructor(
    private readonly s: Services,
    private readonly o: ChatOptions = CHAT_DEFAULTS,
  ) {
    this.owner = `${s.nodeId}:${process.pid}:${randomBytes(3).toString('hex')}`.slice(0, 80);
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.kick().finally(loop), this.o.pollMs);
      this.timer.unref();
    };
    void this.kick();
    loop();
  }

  /** Build and send now; a kick during a pass runs one more pass after it. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass().catch((err) => {
          this.lastError = err;
          this.s.log.warn({ err: String(err) }, 'chat worker failed; will retry');
        });
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    await buildChatJobs(this.s);
    for (let round = 0; round < 50 && !this.stopped; round++) {
      const due = await this.s.chat.due(Date.now(), 50);
      if (!due.length) break;
      const providers = new Map<ChatProvider, Provider>();
      for (const row of await this.s.chat.settings()) providers.set(row.provider, providerOf(this.s, row));
      let claimed = 0;
      const queue = [...due];
      const lane = async () => {
        for (let id = queue.shift(); id !== undefined && !this.stopped; id = queue.shift()) {
          const job = await this.s.chat.claim(id, this.owner, Date.now(), this.o.leaseMs);
          if (!job) continue;
          claimed++;
          await this.run(job, providers.get(job.provider));
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.o.concurrency) }, lane));
      if (!claimed) break;
    }
    if (Date.now() - this.lastPrune > 600_000) {
      this.lastPrune = Date.now();
      await this.s.chat.prune(Date.now() - KEEP_MS);
    }
  }

  private async run(job: ChatJob, pv: Provider | undefined): Promise<void> {
    const finish = (ok: boolean, error: string | null, retryAt: number | null) =>
      this.s.chat.finish(job.id, this.owner, job.version, { ok, error, retryAt, now: Date.now() });
    // The provider was turned off: nothing to send.
    if (!pv) return void (await finish(true, null, null));
    try {
      await syncRequest(this.s, pv, job.requestId);
      await finish(true, null, null);
    } catch (err) {
      const msg = err instanceof ChatApiError ? err.message : `internal: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
      const giveUp = job.attempts >= this.o.maxAttempts;
      await finish(false, msg, giveUp ? null : Date.now() + chatBackoffMs(this.o, job.attempts));
      this.s.log.warn(
        { provider: job.provider, request: job.requestId, attempts: job.attempts, err: msg, giveUp },
        giveUp ? 'chat message failed for good' : 'chat message failed; will retry',
      );
    }
  }
}

/** Starts the chat outbox on a running node; approval events wake it early. */
export function startChat(s: Services, o: ChatOptions = CHAT_DEFAULTS): { worker: ChatWorker; stop(): Promise<void> } {
  const worker = new ChatWorker(s, o);
  worker.start();
  const unsubscribe = s.bus.subscribe((e) => {
    if (e.type.startsWith('approval.')) void worker.kick();
  });
  return {
    worker,
    async stop() {
      unsubscribe();
      await worker.stop();
    },
  };
}
