// Transactions that lose a race inside the database are run again; what still loses is a 409.
//
// PostgreSQL aborts one side of a serialization failure (40001) or a deadlock (40P01), and a statement
// that waited past lock_timeout fails with 55P03; SQLite answers SQLITE_BUSY / SQLITE_LOCKED once
// sqlite-driver.ts has waited its budget for another process's write lock. In every case the transaction
// did nothing (it was rolled back), so running it again from the start is safe. After a bounded number
// of attempts the caller gets GatehouseError 'conflict' (HTTP 409), never an internal error.
import { setTimeout as sleep } from 'node:timers/promises';
import { GatehouseError } from '../core/errors.js';
import { isSqliteBusy } from './sqlite-driver.js';

/** PostgreSQL SQLSTATEs of a transaction that lost to a concurrent one. */
const PG_LOST_RACE = new Set(['40001', '40P01', '55P03']);

export function isLostRace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && PG_LOST_RACE.has(code)) || isSqliteBusy(err);
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** Backoff before the second attempt (default 10 ms); doubles each time, with full jitter. */
  firstDelayMs?: number;
  onRetry?: (err: unknown, attempt: number) => void;
}

export async function withRaceRetry<T>(run: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 5;
  let delay = o.firstDelayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!isLostRace(err)) throw err;
      // A lock already waited for through sqlite-driver.ts's whole budget is not waited for again.
      const spent = typeof (err as { waitedMs?: unknown }).waitedMs === 'number';
      if (attempt >= attempts || spent) throw lostRace(err, attempt);
      o.onRetry?.(err, attempt);
      // Full jitter: racers that collided once do not collide again in step.
      await sleep(Math.random() * delay);
      delay *= 2;
    }
  }
}

/** The 409 a lost race ends in. */
export function lostRace(err: unknown, attempts = 1): GatehouseError {
  return new GatehouseError(
    'conflict',
    `a concurrent change to the same data won${attempts > 1 ? ` ${attempts} times in a row` : ''}; try again (${describe(err)})`,
  );
}

/** The pool found no free connection in time: the database is overloaded, not wrong (503). */
export function isPoolTimeout(err: unknown): boolean {
  return /timeout exceeded when trying to connect/i.test(String((err as { message?: unknown } | null)?.message ?? ''));
}

/** What a database error the caller did not handle means to a client, if it is one of the above. */
export function storageErrorToGatehouse(err: unknown): GatehouseError | null {
  if (isLostRace(err)) return lostRace(err);
  if (isPoolTimeout(err)) return new GatehouseError('unavailable', 'the database is busy; try again in a moment');
  return null;
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code ?? 'error'}: ${(e.message ?? '').split('\n')[0].slice(0, 120)}`;
}
