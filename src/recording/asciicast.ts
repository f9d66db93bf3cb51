// SSH session recording in asciicast v2 (asciinema's format), gzip-compressed as it is written.
// The stream is flushed (Z_SYNC_FLUSH) every FLUSH_MS, so a recording cut off by a crash still
// decompresses, and plays, up to the last flush. Output is always recorded; input only when asked.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { constants, createGzip, type Gzip } from 'node:zlib';

const FLUSH_MS = 250;

export interface RecorderOpts {
  path: string;
  width: number;
  height: number;
  term?: string;
  title?: string;
  recordInput?: boolean;
  /** Called once if writing fails (disk full…): the caller decides whether the session goes on. */
  onError?: (err: Error) => void;
}

export class AsciicastRecorder {
  private readonly gz: Gzip;
  private readonly file: WriteStream;
  private readonly started = process.hrtime.bigint();
  private readonly timer: NodeJS.Timeout;
  private dirty = false;
  private failed = false;
  private closed = false;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly inDecoder = new TextDecoder('utf-8');
  bytes = 0;

  constructor(private readonly o: RecorderOpts) {
    // Recordings hold what people typed and saw: private to the gateway's user, like the rest of the data dir.
    mkdirSync(dirname(o.path), { recursive: true, mode: 0o700 });
    this.file = createWriteStream(o.path, { mode: 0o600 });
    this.gz = createGzip({ level: 6 });
    this.gz.pipe(this.file);
    const fail = (err: Error) => {
      if (this.failed) return;
      this.failed = true;
      o.onError?.(err);
    };
    this.file.on('error', fail);
    this.gz.on('error', fail);
    const header = {
      version: 2,
      width: o.width,
      height: o.height,
      timestamp: Math.floor(Date.now() / 1000),
      env: { TERM: o.term ?? 'xterm', SHELL: '/bin/sh' },
      title: o.title,
    };
    this.write(JSON.stringify(header) + '\n');
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  private t(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  private write(line: string): void {
    if (this.failed || this.closed) return;
    this.bytes += line.length;
    this.gz.write(line);
    this.dirty = true;
  }

  private event(kind: 'o' | 'i' | 'r', data: string): void {
    this.write(JSON.stringify([Math.round(this.t() * 1e6) / 1e6, kind, data]) + '\n');
  }

  /** Bytes the device sent to the terminal. Split UTF-8 sequences are carried to the next chunk. */
  output(b: Buffer): void {
    const s = this.decoder.decode(b, { stream: true });
    if (s) this.event('o', s);
  }

  input(b: Buffer): void {
    if (!this.o.recordInput) return;
    const s = this.inDecoder.decode(b, { stream: true });
    if (s) this.event('i', s);
  }

  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  private flush(): void {
    if (!this.dirty || this.failed || this.closed) return;
    this.dirty = false;
    this.gz.flush(constants.Z_SYNC_FLUSH);
  }

  get ok(): boolean {
    return !this.failed;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    clearInterval(this.timer);
    const tail = this.decoder.decode();
    if (tail) this.event('o', tail);
    this.closed = true;
    const closed = new Promise<void>((resolve) => {
      // A failed file stream (ENOSPC…) has already been destroyed and emitted 'close': waiting for it
      // again would never end, and the session would never be closed.
      if (this.file.closed) return resolve();
      this.file.once('close', () => resolve());
    });
    if (this.failed) {
      this.gz.unpipe(this.file);
      this.gz.destroy();
      this.file.destroy();
    } else this.gz.end();
    return closed;
  }
}
