// Structured logs (pino). Secret-bearing fields are redacted wherever they appear.
import pino, { type Logger } from 'pino';
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
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } }, logStream(dest === 'stdout' ? 1 : 2));
}
export type { Logger };
