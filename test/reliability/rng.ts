// A seeded generator of hostile input (mulberry32): the same seed replays the same cases.
export const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 0x5eed) >>> 0;

export class Rng {
  private s: number;
  constructor(seed = SEED) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** A hostile string: metacharacters, control and bidi characters, markup, long runs, odd unicode. */
  str(max = 80): string {
    const pieces = [
      '@',
      '@@',
      "'",
      '"',
      ';',
      '--',
      '/*',
      '*/',
      "' OR '1'='1",
      '\\',
      '%',
      '_',
      '\0',
      '\x1b[2J',
      '\x1b]0;pwn\x07',
      '\x9b31m',
      '\r\n',
      '\n',
      '\t',
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '&amp;',
      '${x}',
      '{{7*7}}',
      '../',
      '\u202e',
      '\u2066',
      '\ufeff',
      '\ud800',
      '😀',
      'é',
      'ß',
      ' ',
      'a',
      'Z',
      '0',
      '.',
      '-',
      'root',
      'alice',
      'web01',
      'null',
      'undefined',
      'NaN',
      '__proto__',
      'constructor',
    ];
    let out = '';
    const n = this.int(max);
    while (out.length < n) out += this.next() < 0.5 ? this.pick(pieces) : String.fromCharCode(this.int(this.next() < 0.8 ? 128 : 0x10000));
    if (this.next() < 0.05) out += 'x'.repeat(this.int(100_000));
    return out;
  }
  /** Any JSON value, nested up to `depth`. */
  json(depth = 3): unknown {
    const k = this.int(depth > 0 ? 9 : 7);
    switch (k) {
      case 0:
        return null;
      case 1:
        return this.next() < 0.5;
      case 2:
        return this.pick([0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 0.5, -0.0]);
      case 3:
        return this.int(1000);
      case 4:
      case 5:
      case 6:
        return this.str();
      case 7:
        return Array.from({ length: this.int(5) }, () => this.json(depth - 1));
      default:
        return Object.fromEntries(
          Array.from({ length: this.int(5) }, () => [
            this.pick(['name', 'id', '__proto__', 'constructor', this.str(12)]),
            this.json(depth - 1),
          ]),
        );
    }
  }
}

/** Runs `fn` with fresh cases until `ms` passed or `max` cases ran; returns the count. */
export async function forAWhile(ms: number, max: number, fn: (i: number) => void | Promise<void>): Promise<number> {
  const until = Date.now() + ms;
  let i = 0;
  while (i < max && Date.now() < until) await fn(i++);
  return i;
}
