// Errors shown where they belong: the API answers {error: {message, field?, fields?}}; a form keeps one
// message per field ('_' for the form as a whole) and each field points at its own (aria-describedby).
import { useState } from 'react';
import { ApiError } from './api';

/** One message per field name; '_' is the form's own message. */
export type FieldErrors = Record<string, string>;

/** Every message an error carries, by field: all of them at once when the server named several. */
export function errorsOf(e: unknown): FieldErrors {
  if (e instanceof ApiError) {
    const out: FieldErrors = { ...(e.fields ?? {}) };
    if (e.field && !out[e.field]) out[e.field] = e.message;
    if (!Object.keys(out).length) out._ = e.message;
    return out;
  }
  return { _: e instanceof Error ? e.message : String(e) };
}

/** The attributes that tie an input to its hint and its error (ids as Field renders them). */
export function fieldAria(errors: FieldErrors, name: string, id: string, hint = false) {
  const err = errors[name];
  const described = [hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return { 'aria-invalid': !!err, 'aria-describedby': described };
}

/** The messages no visible field shows (fields of another wizard step, a field the form does not have). */
export function unplaced(errors: FieldErrors, shown: readonly string[]): [string, string][] {
  return Object.entries(errors).filter(([k]) => k !== '_' && !shown.includes(k));
}

/** Runs a submit; every error the server names lands at its field, the rest above the buttons. */
export function useForm() {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setErrors({});
    try {
      await fn();
      return true;
    } catch (e) {
      setErrors(errorsOf(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { errors, busy, run, setErrors };
}
