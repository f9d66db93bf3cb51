// RDP through the API: the device (and account) to connect to, and the two answers: a ticket or a wait.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const RdpTarget = Type.Object({
  device: Type.String({ minLength: 1, maxLength: 64 }),
  account: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
export const RdpAllowed = Type.Object({
  outcome: Type.Literal('allowed'),
  device: Type.String(),
  account: Type.String(),
  approvalId: Nullable(Type.Integer()),
  expiresAt: Type.String({ format: 'date-time' }),
  /** Single use, 60 s to start the connection: it is this user's, shown only to them. */
  ticket: Type.String(),
  filename: Type.String(),
  file: Type.String(),
});
export const RdpWaiting = Type.Object({
  outcome: Type.Literal('waiting'),
  requestId: Type.Integer(),
  created: Type.Boolean(),
  approvers: Type.Array(Type.String()),
});
export const RdpTicketAsk = Type.Intersect([RdpTarget, Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) })]);
