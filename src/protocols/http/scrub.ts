// Keeping a device's vaulted secret out of what the browser receives. For a device with an injected
// credential, every form of the secret the gateway can recognise (the password, the Basic value, their
// URL, JSON, HTML and base64 spellings) is overwritten with asterisks of the same length in response
// headers, bodies and websocket frames. Same length keeps Content-Length and websocket framing valid.
const STAR = 0x2a;

/**
 * The forms to mask for one credential, as latin1 strings (one char per byte of their UTF-8). `probes`
 * are short pieces, one inside each form, that start with a byte rare in web pages: a search skips to
 * candidates with memchr, so checking a 64 KiB body costs a few microseconds instead of ~50 per form.
 * Only when a probe hits is the body decoded as latin1 and every form searched and masked.
 */
export interface Forms {
  all: string[];
  probes: Buffer[];
  longest: number;
}

const cache = new WeakMap<readonly [string, string], Forms>();

export function secretForms(credential: readonly [string, string]): Forms {
  let forms = cache.get(credential);
  if (!forms) {
    forms = computeForms(credential);
    cache.set(credential, forms);
  }
  return forms;
}

const htmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/**
 * The base64 text of `secret` wherever it sits in a longer encoded text: for each of the three byte
 * alignments, the characters that depend on the secret's bytes only.
 */
function base64Cores(secret: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const n = k + secret.length;
    const enc = Buffer.concat([Buffer.alloc(k), secret]).toString('base64');
    const core = enc.slice(k === 0 ? 0 : 4, Math.floor(n / 3) * 4);
    if (core.length >= 8) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** How common a byte is in HTML, JSON and text (lower = rarer): the probe starts at the rarest one. */
function commonness(c: number): number {
  if (c >= 0x80) return 1;
  const ch = String.fromCharCode(c);
  if (' etaoinsrhl<>/="\n'.includes(ch)) return 10;
  if (ch >= 'a' && ch <= 'z') return 7;
  if (ch >= '0' && ch <= '9') return 5;
  if (ch >= 'A' && ch <= 'Z') return 3;
  return 4;
}

const PROBE = 12;

function probeOf(form: string): string {
  if (form.length <= PROBE) return form;
  let best = 0;
  for (let i = 1; i <= form.length - PROBE; i++) if (commonness(form.charCodeAt(i)) < commonness(form.charCodeAt(best))) best = i;
  return form.slice(best, best + PROBE);
}

function computeForms(credential: readonly [string, string]): Forms {
  const all = formTexts(credential);
  return {
    all,
    probes: [...new Set(all.map(probeOf))].map((p) => Buffer.from(p, 'latin1')),
    longest: Math.max(0, ...all.map((f) => f.length)),
  };
}

function formTexts([name, value]: readonly [string, string]): string[] {
  const texts = new Set<string>();
  let secret = value;
  if (name === 'authorization' && /^basic\s+/i.test(value)) {
    const b64 = value.replace(/^basic\s+/i, '').trim();
    texts.add(b64.replace(/=+$/, ''));
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    secret = colon >= 0 ? decoded.slice(colon + 1) : decoded;
    for (const c of base64Cores(Buffer.from(decoded))) texts.add(c);
  } else {
    texts.add(value);
    // "Bearer <token>" and the like: the token alone too.
    const sp = value.indexOf(' ');
    if (sp > 0 && value.length - sp > 8) texts.add(value.slice(sp + 1));
  }
  if (secret.length > 0) {
    texts.add(secret);
    texts.add(encodeURIComponent(secret));
    texts.add(encodeURIComponent(secret).replace(/%20/g, '+'));
    texts.add(JSON.stringify(secret).slice(1, -1));
    texts.add(htmlEscape(secret));
    texts.add(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    for (const c of base64Cores(Buffer.from(secret))) texts.add(c);
  }
  texts.delete('');
  return [...texts].map((t) => Buffer.from(t, 'utf8').toString('latin1'));
}

const probed = (buf: Buffer, forms: Forms) => forms.probes.some((p) => buf.includes(p));

/** Where forms occur in `buf`, as [start, end, start, end...], or null. */
function hitsIn(buf: Buffer, forms: Forms): number[] | null {
  if (!probed(buf, forms)) return null;
  const text = buf.toString('latin1');
  let hits: number[] | null = null;
  for (const f of forms.all) {
    for (let i = text.indexOf(f); i >= 0; i = text.indexOf(f, i + 1)) (hits ??= []).push(i, i + f.length);
  }
  return hits;
}

/** `buf` itself when it carries no form, else a copy with every occurrence overwritten. */
export function masked(buf: Buffer, forms: Forms): Buffer {
  const hits = hitsIn(buf, forms);
  if (hits === null) return buf;
  const out = Buffer.from(buf);
  for (let j = 0; j < hits.length; j += 2) out.fill(STAR, hits[j], hits[j + 1]);
  return out;
}

/**
 * A body scanned as it streams. The last (longest form - 1) bytes of what has arrived are held back, so
 * a form split across chunks is still seen whole; `flush` releases them at the end. No form spans a
 * newline, so bytes up to the last one go out at once: an event stream or a log line is not delayed.
 */
export class Scrubber {
  /** The held bytes as the device sent them (scanned again with what follows) and as they will leave. */
  private tail: { raw: Buffer; out: Buffer } | null = null;
  private readonly hold: number;
  private readonly lines: boolean;

  constructor(private readonly forms: Forms) {
    this.hold = Math.max(0, forms.longest - 1);
    this.lines = !forms.all.some((f) => f.includes('\n'));
  }

  /** The bytes that may be sent now, in order (possibly none). */
  push(chunk: Buffer): Buffer[] {
    const t = this.tail;
    if (t !== null && chunk.length > this.hold) return this.junction(t, chunk);
    const raw = t ? Buffer.concat([t.raw, chunk]) : chunk;
    let out = t ? Buffer.concat([t.out, chunk]) : chunk;
    const hits = hitsIn(raw, this.forms);
    if (hits !== null) {
      if (out === chunk) out = Buffer.from(chunk);
      for (let k = 0; k < hits.length; k += 2) out.fill(STAR, hits[k], hits[k + 1]);
    }
    return this.cut(raw, out);
  }

  /**
   * A large chunk after a held tail, without copying the chunk: the tail and the chunk's first bytes
   * are scanned together (a form that spans them ends within `hold` bytes of the chunk), the chunk alone.
   */
  private junction(t: { raw: Buffer; out: Buffer }, chunk: Buffer): Buffer[] {
    let c = chunk;
    const own = () => (c === chunk ? (c = Buffer.from(chunk)) : c);
    const n = t.raw.length;
    const j = hitsIn(Buffer.concat([t.raw, chunk.subarray(0, this.hold)]), this.forms);
    const inChunk = hitsIn(chunk, this.forms);
    for (let k = 0; j !== null && k < j.length; k += 2) {
      t.out.fill(STAR, j[k], Math.min(j[k + 1], n));
      if (j[k + 1] > n) own().fill(STAR, Math.max(0, j[k] - n), j[k + 1] - n);
    }
    for (let k = 0; inChunk !== null && k < inChunk.length; k += 2) own().fill(STAR, inChunk[k], inChunk[k + 1]);
    return [t.out, ...this.cut(chunk, c)];
  }

  /** Sends all but what a form could still continue from; `raw` and `out` have the same length. */
  private cut(raw: Buffer, out: Buffer): Buffer[] {
    let cut = raw.length - this.hold;
    if (this.lines) {
      const start = Math.max(0, cut);
      const nl = raw.subarray(start).lastIndexOf(10);
      if (nl >= 0) cut = start + nl + 1;
    }
    cut = Math.max(0, cut);
    this.tail = cut < raw.length ? { raw: Buffer.from(raw.subarray(cut)), out: Buffer.from(out.subarray(cut)) } : null;
    return cut > 0 ? [out.subarray(0, cut)] : [];
  }

  flush(): Buffer {
    const t = this.tail?.out ?? EMPTY;
    this.tail = null;
    return t;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Response headers ([name, value, ...] as undici gives them) with every form masked in values; a header
 * whose name carries a form is dropped.
 */
export function scrubRawHeaders(raw: Buffer[], forms: Forms): Buffer[] {
  // One probe pass over all of them: header by header only when something may be there.
  if (!probed(Buffer.concat(raw), forms)) return raw;
  const out: Buffer[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (masked(raw[i], forms) !== raw[i]) continue;
    out.push(raw[i], masked(raw[i + 1], forms));
  }
  return out;
}

/**
 * The device-to-browser side of a websocket, frame by frame: payloads go through a Scrubber that is
 * flushed at the end of each frame (so nothing waits for the next frame); frame headers pass as they are.
 * A masked frame (illegal from a server) or a compressed one (RSV bits, an extension the gateway did not
 * offer) cannot be scanned: it throws.
 */
export class FrameScrubber {
  private head: Buffer = EMPTY;
  private left = 0;
  private readonly body: Scrubber;

  constructor(forms: Forms) {
    this.body = new Scrubber(forms);
  }

  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - pos);
        out.push(...this.body.push(chunk.subarray(pos, pos + n)));
        pos += n;
        this.left -= n;
        if (this.left === 0) out.push(this.body.flush());
        continue;
      }
      const need = this.headerLength(chunk, pos);
      const take = Math.min(need - this.head.length, chunk.length - pos);
      this.head = Buffer.concat([this.head, chunk.subarray(pos, pos + take)]);
      pos += take;
      const len = this.payloadLength();
      if (len === null) continue;
      out.push(this.head);
      this.head = EMPTY;
      this.left = len;
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Bytes of the frame header being read, as far as known (2 until the length byte is in). */
  private headerLength(chunk: Buffer, pos: number): number {
    const h = this.head.length >= 2 ? this.head : Buffer.concat([this.head, chunk.subarray(pos, pos + 2 - this.head.length)]);
    if (h.length < 2) return 2;
    if (h[1] & 0x80 || h[0] & 0x70) throw new Error('the device sent a masked or compressed websocket frame');
    const l7 = h[1] & 0x7f;
    return 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0);
  }

  /** The payload length once the whole header is in, else null. */
  private payloadLength(): number | null {
    const h = this.head;
    if (h.length < 2) return null;
    const l7 = h[1] & 0x7f;
    if (l7 < 126) return l7;
    if (l7 === 126) return h.length >= 4 ? h.readUInt16BE(2) : null;
    if (h.length < 10) return null;
    const big = h.readBigUInt64BE(2);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('the device sent an oversized websocket frame');
    return Number(big);
  }
}
