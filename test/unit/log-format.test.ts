// Log lines: one readable line each on a terminal, pino's JSON unchanged otherwise; a stream whose
// reader lags drops lines past the backlog (and says how many) instead of holding the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLine, logStream } from '../../src/log-format.js';

const line = JSON.stringify({
  level: 40,
  time: Date.UTC(2026, 0, 1, 12, 4, 5),
  pid: 7,
  msg: 'http proxy could not listen',
  http: '127.0.0.1:8081',
  n: 2,
});

test('a terminal gets time, level, message and fields; no pid, no JSON braces', () => {
  const out = formatLine(line);
  assert.match(out, /^\d\d:\d\d:\d\d WARN {2}http proxy could not listen {2}http=127\.0\.0\.1:8081 n=2\n$/);
  assert.match(formatLine(line, true), /\x1b\[33mWARN \x1b\[0m /);
  assert.equal(formatLine('not json'), 'not json\n');
});

function fakeOut(isTTY: boolean, backlog = 0) {
  const written: string[] = [];
  const out = { isTTY, writableLength: backlog, on: () => out, write: (s: string) => written.push(s) > 0 };
  return { out: out as unknown as NodeJS.WriteStream, written };
}

test('not a terminal: the JSON line goes out as it came', () => {
  const { out, written } = fakeOut(false);
  logStream(1, out).write(line + '\n');
  assert.deepEqual(written, [line + '\n']);
});

test('a terminal: the readable line', () => {
  const { out, written } = fakeOut(true);
  logStream(1, out).write(line + '\n');
  assert.match(written[0], /WARN/);
  assert.doesNotMatch(written[0], /^\{/);
});

test('past the backlog lines are dropped, then counted once the reader catches up', () => {
  const f = fakeOut(false, 64 * 1024 * 1024);
  const stream = logStream(1, f.out);
  stream.write(line + '\n');
  stream.write(line + '\n');
  assert.equal(f.written.length, 0);
  (f.out as unknown as { writableLength: number }).writableLength = 0;
  stream.write(line + '\n');
  assert.match(f.written[0], /2 log lines dropped/);
  assert.equal(f.written[1], line + '\n');
});
