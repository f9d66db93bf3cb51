// Hostile redirect targets: every C0 control, DEL and Unicode space or format character, inserted at
// several positions of targets that lead off-site in a browser, plus those targets as they are.

export const UNICODE_SPACES = [
  0x85, 0xa0, 0x1680, 0x180e, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x200b, 0x200c,
  0x200d, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];
export const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f];
/** Every character the browser may strip, trim or fold, as code points. */
export const ODD_CHARS = [...CONTROLS, 0x20, ...UNICODE_SPACES].map((c) => String.fromCodePoint(c));
/** The same, percent-encoded: how they reach a server inside a request path. */
export const ODD_CHARS_ENCODED = ODD_CHARS.map((c) => encodeURIComponent(c));

/** Targets that leave the site when a browser resolves them (some only after stripping a character). */
export const OFFSITE = [
  '//evil.test',
  '/\\evil.test',
  '\\\\evil.test',
  '/\\/evil.test',
  'https://evil.test',
  'https:/evil.test',
  'http:evil.test',
  '//evil.test@gw.test',
  '/..//evil.test',
  '/.//evil.test',
  '/%2F/evil.test',
  '/%5Cevil.test',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '///evil.test',
];

export const REPRODUCTION = '/\t/evil.test';

/** Each odd character at positions 0, 1, 2 and the end of each off-site target. */
export function* hostileTargets(targets: readonly string[] = OFFSITE, chars: readonly string[] = ODD_CHARS): Generator<string> {
  yield REPRODUCTION;
  for (const t of targets) {
    yield t;
    for (const c of chars) for (const at of new Set([0, 1, 2, t.length])) yield t.slice(0, at) + c + t.slice(at);
  }
}

/** Runs `fn` on every item, `width` at a time. */
export async function pool<T>(items: Iterable<T>, width: number, fn: (item: T) => Promise<void>): Promise<number> {
  const it = items[Symbol.iterator]();
  let n = 0;
  const worker = async () => {
    for (let r = it.next(); !r.done; r = it.next()) {
      n++;
      await fn(r.value);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return n;
}

/** What a browser does with a Location value: strip TAB/LF/CR, then resolve it against the page's URL. */
export function browserResolve(location: string, page: string): URL | null {
  try {
    return new URL(location.replace(/[\t\n\r]/g, ''), page);
  } catch {
    return null;
  }
}
