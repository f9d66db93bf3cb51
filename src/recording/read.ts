// Reads a recording back, also one cut off by a crash: decompression stops at the last complete flush
// and a trailing partial line is dropped.
import { createReadStream, readFileSync } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { constants, createGunzip, gunzipSync } from 'node:zlib';

export function readCast(path: string): string {
  const raw = readFileSync(path);
  const text = gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  const end = text.lastIndexOf('\n');
  return end < 0 ? '' : text.slice(0, end + 1);
}

/**
 * The same, as a stream: memory stays bounded whatever the recording's size (a session's output is the
 * user's to choose, and highly compressible output inflates a small file to gigabytes).
 */
export function castStream(path: string): Readable {
  const file = createReadStream(path);
  const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
  const cut = new WholeLines();
  file.on('error', (err) => cut.destroy(err));
  gunzip.on('error', (err) => cut.destroy(err));
  return file.pipe(gunzip).pipe(cut);
}

/** Passes bytes up to the last newline seen; a partial line left at the end is dropped. */
class WholeLines extends Transform {
  private held: Buffer[] = [];

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const nl = chunk.lastIndexOf(0x0a);
    if (nl < 0) {
      this.held.push(chunk);
      // One line longer than any real event: the rest of the file is not a cast.
      if (this.held.reduce((n, b) => n + b.length, 0) > MAX_LINE_BYTES) return done(new Error('recording line too long'));
      return done();
    }
    const head = chunk.subarray(0, nl + 1);
    this.push(this.held.length ? Buffer.concat([...this.held, head]) : head);
    this.held = nl + 1 < chunk.length ? [chunk.subarray(nl + 1)] : [];
    done();
  }

  override _flush(done: TransformCallback): void {
    this.held = [];
    done();
  }
}

const MAX_LINE_BYTES = 16 * 1024 * 1024;

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
