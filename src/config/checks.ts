// Small validators for environment variables. Written by hand so loading the config costs no schema
// library (the CLI loads it on every command); messages match what operators have seen so far.

/** A variable's check: the parsed value, or the messages that say why it was refused. */
export type Check<T> = (raw: string) => { ok: true; value: T } | { ok: false; errors: string[] };

const ok = <T>(value: T) => ({ ok: true as const, value });
const bad = (...errors: string[]) => ({ ok: false as const, errors });

export function str(): Check<string> {
  return (v) => ok(v);
}

/** A string that passes every rule; each rule it fails adds its message. */
export function rules(...list: [test: (v: string) => boolean, message: string][]): Check<string> {
  return (v) => {
    const errors = list.filter(([test]) => !test(v)).map(([, message]) => message);
    return errors.length ? bad(...errors) : ok(v);
  };
}

/** A string matching `re`. */
export function matching(re: RegExp, message = `Invalid string: must match pattern ${re}`): Check<string> {
  return rules([(v) => re.test(v), message]);
}

/** An absolute URL; surrounding whitespace is dropped. */
export function url(): Check<string> {
  return (v) => {
    const t = v.trim();
    return URL.canParse(t) ? ok(t.replace(/[\t\n\r]/g, '')) : bad('Invalid URL');
  };
}

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  const msg = `Invalid option: expected one of ${values.map((x) => JSON.stringify(x)).join('|')}`;
  return (v) => ((values as readonly string[]).includes(v) ? ok(v as T) : bad(msg));
}

interface NumberRule {
  min: number;
  max: number;
  /** One message for every failed rule (integer, minimum, maximum); else the standard messages. */
  message?: string;
}

/** A whole number from `min` to `max` (Number() syntax: 1e3 and 0x50 are accepted). A fraction is refused
 * alone; otherwise each failed rule (safe integer, minimum, maximum) is listed. */
export function integer({ min, max, message }: NumberRule): Check<number> {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n)) return bad(`Invalid input: expected number, received ${n}`);
    if (!Number.isInteger(n)) return bad(message ?? 'Invalid input: expected int, received number');
    const errors: string[] = [];
    const S = Number.MAX_SAFE_INTEGER;
    if (n > S) errors.push(message ?? `Too big: expected int to be <=${S}`);
    if (n < -S) errors.push(message ?? `Too small: expected int to be >=${-S}`);
    if (n < min) errors.push(message ?? `Too small: expected number to be >=${min}`);
    if (n > max) errors.push(message ?? `Too big: expected number to be <=${max}`);
    return errors.length ? bad(...errors) : ok(n);
  };
}

/** Normalises the text (e.g. its case), then checks the result. */
export function mapped(fn: (v: string) => string, then: Check<string>): Check<string> {
  return (raw) => then(fn(raw));
}

export type Spec = Record<string, { check: Check<unknown>; default?: unknown }>;
export type Parsed<S extends Spec> = {
  [K in keyof S]: S[K] extends { check: Check<infer T>; default: unknown }
    ? T
    : S[K] extends { check: Check<infer T> }
      ? T | undefined
      : never;
};

/** Validates every variable of `spec` present in `env` (empty = unset); all problems at once, in spec order. */
export function parseEnv<S extends Spec>(
  spec: S,
  env: Record<string, string | undefined>,
): { ok: true; value: Parsed<S> } | { ok: false; errors: string[] } {
  const out: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, field] of Object.entries(spec)) {
    const raw = Object.hasOwn(env, name) ? env[name] : undefined;
    if (raw === undefined || raw === '') {
      out[name] = field.default;
      continue;
    }
    const r = field.check(raw);
    if (r.ok) out[name] = r.value;
    else for (const e of r.errors) errors.push(`  ${name}: ${e}`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: out as Parsed<S> };
}
