// TypeBox building blocks every resource's schema uses. Response schemas also filter the output: a field
// a schema does not name is never serialised.
import { Type, type TSchema } from '@sinclair/typebox';
import { APPROVAL_STATUSES, PROTOCOLS } from '../../core/types.js';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Time = Nullable(Type.String({ format: 'date-time' }));
export const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_][a-z0-9._-]*$' });
export const Protocol = Type.Union(PROTOCOLS.map((p) => Type.Literal(p)));
export const Status = Type.Union(APPROVAL_STATUSES.map((p) => Type.Literal(p)));
export const Protocols = Type.Array(Protocol, { minItems: 1, maxItems: 6 });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    /** Every field's problem at once, in words ("Username is required"). */
    fields: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
});

/** Standard error responses, for the OpenAPI document. */
export const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const Page = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
});

export const Ok = Type.Object({ ok: Type.Boolean() });

/** A path parameter `id` (approvals, sessions, tokens). */
export const ById = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const list = <T extends TSchema>(t: T) => Type.Object({ items: Type.Array(t), nextBeforeId: Nullable(Type.Integer()) });
