// The one check for every redirect target that comes from input (a `return=` parameter, a request path
// sent back in Location). It resolves the target as a browser would (the WHATWG URL parser), keeps it only
// when it stays on the base's origin, and hands back the re-serialised path, never the raw input.

/** Any base works for a same-origin path: only the origin comparison and the path are used. */
export const REDIRECT_BASE = 'http://gatehouse.invalid/';
export const REDIRECT_FALLBACK = '/';
export const REDIRECT_MAX_LENGTH = 2000;

// Browsers drop TAB, LF and CR inside URLs and trim C0 controls and spaces at the ends, so a target with
// any control, space, format character, lone surrogate or backslash is refused before it is parsed.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Z}\\]/u;
// What goes into a Location header: printable ASCII only (the parser percent-encodes the rest).
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * A path (with query and fragment) on the same origin as `base`, normalised by the WHATWG URL parser,
 * or '/' for anything else. Never throws.
 */
export function safeRedirect(target: unknown, base: string = REDIRECT_BASE): string {
  try {
    if (typeof target !== 'string' || target.length === 0 || target.length > REDIRECT_MAX_LENGTH) return REDIRECT_FALLBACK;
    if (target[0] !== '/' || UNSAFE.test(target)) return REDIRECT_FALLBACK;
    const b = new URL(base);
    if (b.protocol !== 'http:' && b.protocol !== 'https:') return REDIRECT_FALLBACK;
    const u = new URL(target, b);
    if (u.origin !== b.origin || u.username !== '' || u.password !== '') return REDIRECT_FALLBACK;
    const out = u.pathname + u.search + u.hash;
    // A path that normalises to '//x' ('/..//x', '/.//x') would read as another host in Location.
    if (!out.startsWith('/') || out.startsWith('//') || out.length > REDIRECT_MAX_LENGTH || !HEADER_SAFE.test(out))
      return REDIRECT_FALLBACK;
    // The browser reading our answer must land where we checked.
    const back = new URL(out, b);
    if (back.origin !== b.origin || back.pathname + back.search + back.hash !== out) return REDIRECT_FALLBACK;
    return out;
  } catch {
    return REDIRECT_FALLBACK;
  }
}
