// Structured logs (pino). Secret-bearing fields are redacted wherever they appear.
// pino is required when a logger is made, not at import: the CLI's lazy logger loads it only if a line is written.
import { createRequire } from 'node:module';
import type Pino from 'pino';
import type { Logger } from 'pino';

const load = (): typeof Pino => createRequire(import.meta.url)('pino') as typeof Pino;
import { logStream } from './log-format.js';

export const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
  'token',
  '*.token',
  'passwordHash',
  '*.passwordHash',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export function makeLogger(level: string, dest: 'stdout' | 'stderr' = 'stdout'): Logger {
  const pino = load();
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } }, logStream(dest === 'stdout' ? 1 : 2));
}

const LEVELS = new Map<string | symbol, number>(
  Object.entries({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }),
);
const noop = (): void => {};

/**
 * makeLogger's logger, made on first use: a call below the level is a no-op without loading pino. Any
 * other use (a line at or above the level, child(), flush(), …) makes the real logger and goes to it.
 * An unknown level makes it at once, so pino's error for it comes at the same point.
 */
export function makeLazyLogger(level: string, dest: 'stdout' | 'stderr' = 'stdout'): Logger {
  const threshold = LEVELS.get(level);
  if (threshold === undefined) return makeLogger(level, dest);
  let real: Logger | null = null;
  const get = (): Logger => (real ??= makeLogger(level, dest));
  return new Proxy({} as Logger, {
    get(_, prop) {
      const l = LEVELS.get(prop);
      if (!real && l !== undefined && l < threshold) return noop;
      if (!real && prop === 'level') return level;
      const r = get();
      const v = Reflect.get(r, prop, r) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(r) : v;
    },
    set: (_, prop, v) => Reflect.set(get(), prop, v),
    has: (_, prop) => Reflect.has(get(), prop),
  });
}
export type { Logger };
