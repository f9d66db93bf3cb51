// Every problem of an admin change, by field, found before anything is written: a form shows them all
// at once ("Username is required", "No user named 'ghost'") and a failed save leaves nothing behind.
import { GatehouseError, type ErrorCode } from '../errors.js';
import type { PolicySnapshot } from '../policy/snapshot.js';

/** A refusal naming several fields; `message` lists them all for the CLI, `fields` places them in a form. */
export class FieldProblems extends GatehouseError {
  constructor(
    code: ErrorCode,
    readonly fields: Record<string, string>,
  ) {
    super(code, Object.values(fields).join('; '), Object.keys(fields)[0]);
  }
}

export class Problems {
  private readonly fields: Record<string, string> = {};
  private readonly codes = new Set<ErrorCode>();

  /** The first problem of a field is kept (the one the admin fixes first). */
  add(field: string, message: string, code: ErrorCode = 'invalid'): void {
    if (this.fields[field] !== undefined) return;
    this.fields[field] = message;
    this.codes.add(code);
  }

  /** Runs a check that throws a GatehouseError; its problem is kept under `field` (the form's name for it). */
  check<T>(field: string, fn: () => T, prefix = ''): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof GatehouseError)) throw e;
      this.add(field, prefix + e.message, e.code);
      return undefined;
    }
  }

  get any(): boolean {
    return Object.keys(this.fields).length > 0;
  }

  /** Throws every problem at once: one kind keeps its code (409 for a taken name), several are 400. */
  throwIfAny(): void {
    if (!this.any) return;
    const code = this.codes.size === 1 ? [...this.codes][0] : 'invalid';
    throw new FieldProblems(code, { ...this.fields });
  }
}

/** "No user named 'ghost'" / "No users named 'ghost', 'phantom'" for names that do not exist. */
export function unknownUsers(p: PolicySnapshot, names: readonly string[]): string | null {
  const missing = [...new Set(names)].filter((n) => !p.usersByName.has(n));
  if (!missing.length) return null;
  const list = missing
    .slice(0, 5)
    .map((n) => `'${n.slice(0, 64)}'`)
    .join(', ');
  return `No user${missing.length > 1 ? 's' : ''} named ${list}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`;
}
