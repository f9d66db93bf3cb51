// API tokens: what their owner sees (never the token but once, at creation, nor its hash).
import { Type } from '@sinclair/typebox';
import { Time } from '../schema.js';

export const Token = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Time,
  expiresAt: Time,
  lastUsedAt: Time,
  revokedAt: Time,
  /** Made from a console session that proved the second factor: only such tokens decide while one is required. */
  secondFactor: Type.Boolean(),
});

export const NewToken = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) },
  { additionalProperties: false },
);
export const TokenCreated = Type.Object({ token: Type.String(), item: Token });
