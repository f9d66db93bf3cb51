// Reads a recording back, also one cut off by a crash: decompression stops at the last complete flush
// and a trailing partial line is dropped.
import { readFileSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';

export function readCast(path: string): string {
  const raw = readFileSync(path);
  const text = gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  const end = text.lastIndexOf('\n');
  return end < 0 ? '' : text.slice(0, end + 1);
}

/** The terminal output of a cast, concatenated (what `asciinema cat` prints). */
export function castOutput(cast: string): string {
  return cast
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => JSON.parse(l) as [number, string, string])
    .filter((e) => e[1] === 'o')
    .map((e) => e[2])
    .join('');
}
