// Where log lines go: pino's JSON lines for machines, one readable line each when the stream is a
// terminal (the first-run password, "listening", "off because…" must be read by a person).
// Writes never block the process: a reader that stops reading (or is gone, as `| tee` after Ctrl-C)
// must not keep the gateway from shutting down.
import type { DestinationStream } from 'pino';

const LABELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** Past this many bytes queued for a reader that does not read, lines are dropped (and counted). */
const MAX_BACKLOG = 8 * 1024 * 1024;

const fieldValue = (v: unknown) => (typeof v === 'string' ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v));

/** One JSON log line as `12:04:05 INFO  message  key=value …` (ANSI colours when asked). */
export function formatLine(json: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const level = Number(o.level);
  const label = (LABELS[level] ?? String(o.level)).padEnd(5);
  const time = typeof o.time === 'number' ? new Date(o.time).toTimeString().slice(0, 8) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${fieldValue(v)}`)
    .join(' ');
  const tag = color ? `\x1b[${COLORS[level] ?? '0'}m${label}\x1b[0m` : label;
  return `${time} ${tag} ${String(o.msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

const guarded = new WeakSet<NodeJS.WriteStream>();

/** The logger's destination on stdout (1) or stderr (2): readable on a terminal, JSON otherwise. */
export function logStream(fd: 1 | 2, out: NodeJS.WriteStream = fd === 1 ? process.stdout : process.stderr): DestinationStream {
  // EPIPE (the reader is gone) is not the gateway's failure: without a listener it would be an uncaught exception.
  if (!guarded.has(out)) out.on('error', () => {});
  guarded.add(out);
  const tty = out.isTTY === true;
  const color = tty && !process.env.NO_COLOR;
  let dropped = 0;
  const emit = (line: string) => out.write(tty ? formatLine(line, color) : line);
  return {
    write(line: string) {
      if (out.writableLength > MAX_BACKLOG) {
        dropped++;
        return;
      }
      if (dropped) {
        emit(
          JSON.stringify({
            level: 40,
            time: Date.now(),
            pid: process.pid,
            msg: `${dropped} log lines dropped: their reader did not keep up`,
          }) + '\n',
        );
        dropped = 0;
      }
      emit(line);
    },
  };
}
