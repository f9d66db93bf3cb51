// The response body of a device with an injected credential, on its way to the browser: decoded when the
// device answered compressed despite `Accept-Encoding: identity`, then scanned for the secret (scrub.ts).
import type { ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Scrubber, type Forms } from './scrub.js';

/** Decoded bytes one response may produce; a body that inflates past this is cut (a compression bomb). */
export const MAX_DECODED_BYTES = 1024 * 1024 * 1024;

export type Coding = 'gzip' | 'deflate' | 'br';

/**
 * The one coding a device's answer uses: null for none or identity, 'refuse' for anything the gateway
 * cannot decode (several codings, zstd, unknown ones), since an unreadable body cannot be scanned.
 */
export function codingOf(raw: Buffer[]): Coding | null | 'refuse' {
  let found: Coding | null | 'refuse' = null;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 16 || raw[i].toString('latin1').toLowerCase() !== 'content-encoding') continue;
    seen++;
    const v = raw[i + 1].toString('latin1').trim().toLowerCase();
    found =
      v === '' || v === 'identity'
        ? null
        : v === 'gzip' || v === 'x-gzip'
          ? 'gzip'
          : v === 'deflate'
            ? 'deflate'
            : v === 'br'
              ? 'br'
              : 'refuse';
  }
  return seen > 1 ? 'refuse' : found;
}

/** The headers without the ones a decoded body makes wrong (its coding and length). */
export function withoutCoding(raw: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toString('latin1').toLowerCase();
    if (k !== 'content-encoding' && k !== 'content-length') out.push(raw[i], raw[i + 1]);
  }
  return out;
}

const decoder = (c: Coding): Transform => (c === 'gzip' ? createGunzip() : c === 'deflate' ? createInflate() : createBrotliDecompress());

/** Where the device's body chunks go; `write` false means wait for `resume` before sending more. */
export class ScrubbedBody {
  private readonly scrub: Scrubber;
  private z: Transform | null = null;
  private fed = 0;
  private decoded = 0;

  constructor(
    private readonly res: ServerResponse,
    forms: Forms,
    coding: Coding | null,
    private readonly resume: () => void,
    private readonly fail: (err: Error) => void,
  ) {
    this.scrub = new Scrubber(forms);
    if (coding) this.z = this.decoding(decoder(coding));
  }

  private decoding(z: Transform): Transform {
    z.on('data', (d: Buffer) => {
      this.decoded += d.length;
      if (this.decoded > MAX_DECODED_BYTES) {
        z.destroy();
        return this.fail(new Error('the device sent a body that decodes past the limit'));
      }
      if (!this.send(d)) {
        z.pause();
        this.res.once('drain', () => z.resume());
      }
    });
    z.on('error', (err: Error) => this.fail(err));
    return z;
  }

  /** Scans and sends; false when the client's buffer is full. */
  private send(d: Buffer): boolean {
    const out = this.scrub.push(d);
    if (out.length === 0) return true;
    const last = out.pop()!;
    // The held-back tail usually follows in the same tick (the device's last chunk and its end are
    // parsed together): corked, both leave in one write instead of two.
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(this.uncork);
    }
    for (const b of out) this.res.write(b);
    return this.res.write(last);
  }

  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.res.uncork();
  };

  write(chunk: Buffer): boolean {
    if (this.z === null) {
      if (this.send(chunk)) return true;
      this.res.once('drain', this.resume);
      return false;
    }
    this.fed += chunk.length;
    if (this.z.write(chunk)) return true;
    this.z.once('drain', this.resume);
    return false;
  }

  /** The device finished: the decoder drains, the held-back tail goes out, then `done`. */
  end(done: () => void): void {
    const z = this.z;
    const finish = () => {
      this.res.end(this.scrub.flush());
      done();
    };
    if (z === null || this.fed === 0) return finish();
    z.once('end', finish);
    z.end();
  }
}
