// Schema (AJV) errors in words, one per field and all at once: "Username is required", "Email must be
// an email address", never "body/username must NOT have fewer than 1 characters".
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

/** The parts of an AJV error this mapper reads. */
export interface SchemaError {
  keyword?: string;
  instancePath?: string;
  params?: Record<string, unknown>;
}

/** At most this many errors are read: a hostile body with thousands of bad items costs no more. */
const MAX_READ = 200;

const LABELS: Record<string, string> = {
  username: 'Username',
  displayName: 'Display name',
  email: 'Email',
  password: 'Password',
  current: 'Current password',
  sshKeys: 'SSH keys',
  addSshKeys: 'SSH key',
  manager: 'Line manager',
  managers: 'Group managers',
  members: 'Members',
  name: 'Name',
  rename: 'Name',
  requireApproval: 'Required Managerial Approval',
  requireReason: 'Require a reason',
  userGroup: 'User group',
  deviceGroup: 'Device group',
  protocols: 'Protocols',
};

/** "displayName" -> "Display name"; known fields use the console's own label. */
export function labelOf(field: string): string {
  const last = field.split('.').pop() ?? field;
  if (LABELS[last]) return LABELS[last];
  const words = last.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

const TYPES: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'empty',
};
const FORMATS: Record<string, string> = {
  email: 'an email address',
  uri: 'a URL',
  'date-time': 'a date and time',
  date: 'a date',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
};

const plural = (n: unknown, word: string) => `${String(n)} ${word}${n === 1 ? '' : 's'}`;

/** The sentence after the field's label, or null for an error another one explains better. */
function phrase(e: SchemaError): string | null {
  const p = e.params ?? {};
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'minLength':
      return p.limit === 1 ? 'is required' : `needs at least ${plural(p.limit, 'character')}`;
    case 'maxLength':
      return `has at most ${plural(p.limit, 'character')}`;
    case 'minItems':
      return `needs at least ${plural(p.limit, 'item')}`;
    case 'maxItems':
      return `has at most ${plural(p.limit, 'item')}`;
    case 'minimum':
      return `must be at least ${String(p.limit)}`;
    case 'maximum':
      return `must be at most ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be more than ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`;
    case 'type':
      return `must be ${String(p.type ?? '')
        .split(',')
        .map((t) => TYPES[t] ?? t)
        .join(' or ')}`;
    case 'format':
      return `must be ${FORMATS[String(p.format)] ?? `a valid ${String(p.format)}`}`;
    case 'enum':
      return `must be one of: ${((p.allowedValues as unknown[]) ?? []).map(String).join(', ')}`;
    case 'const':
      return `must be ${String(p.allowedValue)}`;
    case 'pattern':
      return 'is not in the expected form';
    case 'uniqueItems':
      return 'lists the same item twice';
    case 'anyOf':
    case 'oneOf':
      return 'is not valid';
    default:
      return null;
  }
}

/** Where an error belongs: the path up to the first list index ('/members/3' -> 'members'). */
function fieldOf(e: SchemaError): { field: string; item: number | null } {
  const parts = (e.instancePath ?? '').split('/').filter(Boolean);
  const at = parts.findIndex((x) => /^\d+$/.test(x));
  const path = at < 0 ? parts : parts.slice(0, at);
  const item = at < 0 ? null : Number(parts[at]);
  const extra = e.keyword === 'required' && at < 0 ? [String(e.params?.missingProperty ?? '')] : [];
  return { field: [...path, ...extra].filter(Boolean).join('.'), item };
}

export interface FieldErrors {
  /** Every field's message. '' is the body as a whole. */
  fields: Record<string, string>;
  /** The first field, for clients that read one (`error.field`). */
  field: string | undefined;
  /** Every message in one line, for the CLI and API clients that read `error.message`. */
  message: string;
}

/** AJV's errors in words. Unknown fields keep their own wording ("unknown field 'x'"). */
export function schemaFieldErrors(errors: readonly SchemaError[]): FieldErrors {
  const fields: Record<string, string> = {};
  // A nullable field fails both "string" and "null" plus anyOf; the first specific message wins.
  const weak = new Set<string>();
  for (const e of errors.slice(0, MAX_READ)) {
    if (e.keyword === 'additionalProperties') {
      const base = fieldOf(e).field;
      const name = base ? `${base}.${String(e.params?.additionalProperty)}` : String(e.params?.additionalProperty);
      fields[name] = `unknown field '${name}'`;
      continue;
    }
    const said = phrase(e);
    if (said === null) continue;
    const { field, item } = fieldOf(e);
    const isWeak = e.keyword === 'anyOf' || e.keyword === 'oneOf' || (e.keyword === 'type' && String(e.params?.type) === 'null');
    if (fields[field] !== undefined && (isWeak || !weak.has(field))) continue;
    const label = field ? labelOf(field) : 'The request';
    fields[field] = item === null ? `${label} ${said}` : `${label}: item ${item + 1} ${said}`;
    if (isWeak) weak.add(field);
    else weak.delete(field);
  }
  const keys = Object.keys(fields);
  const field = keys.find((k) => k !== '');
  return { fields, field, message: keys.length ? keys.map((k) => fields[k]).join('; ') : 'The request is not valid' };
}

const KEYWORDS: Partial<Record<ValueErrorType, [string, (s: Record<string, unknown>) => Record<string, unknown>]>> = {
  [ValueErrorType.ArrayMaxItems]: ['maxItems', (s) => ({ limit: s.maxItems })],
  [ValueErrorType.ArrayMinItems]: ['minItems', (s) => ({ limit: s.minItems })],
  [ValueErrorType.ArrayUniqueItems]: ['uniqueItems', () => ({})],
  [ValueErrorType.Array]: ['type', () => ({ type: 'array' })],
  [ValueErrorType.Boolean]: ['type', () => ({ type: 'boolean' })],
  [ValueErrorType.IntegerMaximum]: ['maximum', (s) => ({ limit: s.maximum })],
  [ValueErrorType.IntegerMinimum]: ['minimum', (s) => ({ limit: s.minimum })],
  [ValueErrorType.Integer]: ['type', () => ({ type: 'integer' })],
  [ValueErrorType.Literal]: ['const', (s) => ({ allowedValue: s.const })],
  [ValueErrorType.Null]: ['type', () => ({ type: 'null' })],
  [ValueErrorType.NumberMaximum]: ['maximum', (s) => ({ limit: s.maximum })],
  [ValueErrorType.NumberMinimum]: ['minimum', (s) => ({ limit: s.minimum })],
  [ValueErrorType.Number]: ['type', () => ({ type: 'number' })],
  [ValueErrorType.Object]: ['type', () => ({ type: 'object' })],
  [ValueErrorType.StringFormat]: ['format', (s) => ({ format: s.format })],
  [ValueErrorType.StringMaxLength]: ['maxLength', (s) => ({ limit: s.maxLength })],
  [ValueErrorType.StringMinLength]: ['minLength', (s) => ({ limit: s.minLength })],
  [ValueErrorType.StringPattern]: ['pattern', () => ({})],
  [ValueErrorType.String]: ['type', () => ({ type: 'string' })],
};

/** One TypeBox error as AJV would have said it (a union: its first non-null branch's first error). */
function asSchemaError(e: ValueError): SchemaError | null {
  const s = e.schema as Record<string, unknown>;
  const parent = e.path.replace(/\/[^/]*$/, '');
  const last = e.path.split('/').pop() ?? '';
  if (e.type === ValueErrorType.ObjectAdditionalProperties)
    return { keyword: 'additionalProperties', instancePath: parent, params: { additionalProperty: last } };
  if (e.type === ValueErrorType.ObjectRequiredProperty)
    return { keyword: 'required', instancePath: parent, params: { missingProperty: last } };
  if (e.type === ValueErrorType.Union) {
    const options = (s.anyOf as Record<string, unknown>[]) ?? [];
    if (options.length && options.every((o) => o.const !== undefined))
      return { keyword: 'enum', instancePath: e.path, params: { allowedValues: options.map((o) => o.const) } };
    for (const branch of e.errors) {
      const first = branch.First();
      if (first && first.type !== ValueErrorType.Null) return asSchemaError(first);
    }
    return { keyword: 'anyOf', instancePath: e.path };
  }
  const k = KEYWORDS[e.type];
  return k ? { keyword: k[0], instancePath: e.path, params: k[1](s) } : null;
}

/**
 * Every problem of a body against its route's schema (TypeBox, read lazily and at most MAX_READ errors,
 * so a body with a million bad items costs no more than a short one). Null when the schema cannot be read.
 */
export function bodyFieldErrors(schema: unknown, body: unknown): FieldErrors | null {
  try {
    const found: SchemaError[] = [];
    // Fastify's validator coerces ("true" -> true); so does this reading, or it would report what Fastify accepts.
    const data = Value.Convert(schema as TSchema, structuredClone(body));
    for (const e of Value.Errors(schema as TSchema, data)) {
      const s = asSchemaError(e);
      if (s) found.push(s);
      if (found.length >= MAX_READ) break;
    }
    return found.length ? schemaFieldErrors(found) : null;
  } catch {
    return null;
  }
}
