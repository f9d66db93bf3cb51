// Sessions: live and past proxied connections.
import { Type } from '@sinclair/typebox';
import { Nullable, Page, Time } from '../schema.js';

export const Session = Type.Object({
  id: Type.Integer(),
  user: Type.String(),
  device: Type.String(),
  account: Type.String(),
  protocol: Type.String(),
  approvalId: Nullable(Type.Integer()),
  clientAddress: Nullable(Type.String()),
  node: Type.String(),
  startedAt: Time,
  endedAt: Time,
  endReason: Nullable(Type.String()),
  live: Type.Boolean(),
  bytesIn: Type.Number(),
  bytesOut: Type.Number(),
  recording: Type.Boolean(),
});

export const SessionListQuery = Type.Intersect([
  Page,
  Type.Object({
    state: Type.Optional(Type.Union([Type.Literal('live'), Type.Literal('past'), Type.Literal('all')])),
    approvalId: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
]);
export const KillReason = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
