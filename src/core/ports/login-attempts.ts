// Counted login and code attempts, shared by every node through the database. Each call is one
// statement, so the check and the count cannot be split by another attempt on any node.

export interface LoginAttemptStore {
  /**
   * Counts one attempt against `key` when fewer than `limit` are counted in its window (a window older
   * than `windowMs` starts again at `now`). Returns the window's start when counted, null at the limit.
   */
  reserve(key: string, limit: number, now: number, windowMs: number): Promise<number | null>;
  /** Gives back one attempt counted in the window that started at `windowStart` (a no-op once it has passed). */
  release(key: string, windowStart: number): Promise<void>;
  /** Forgets the key's attempts. */
  clear(key: string): Promise<void>;
  /** A refused attempt: when the key's window started, and whether this is its first refusal in that window. */
  refused(key: string): Promise<{ windowStart: number; first: boolean } | null>;
  /** The key's count in the current window (no count, no change). */
  count(key: string, now: number, windowMs: number): Promise<{ n: number; windowStart: number } | null>;
  /** Removes keys whose window started before `before`. */
  prune(before: number): Promise<void>;
}
