// The audit log: one record, and the filter shared by the list and the export.
import { Type } from '@sinclair/typebox';
import { Nullable, Time } from '../schema.js';

export const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: Time,
  actor: Type.String(),
  channel: Type.String(),
  action: Type.String(),
  targetType: Nullable(Type.String()),
  targetId: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  actorName: Type.String({ description: 'the actor as a person reads it: "Display Name (username)" for a user' }),
  fields: Type.Array(
    Type.Object({
      label: Type.String(),
      value: Type.String(),
      kind: Type.Union([Type.Literal('text'), Type.Literal('time'), Type.Literal('person')], {
        description: 'time: ISO 8601, to show in local time',
      }),
    }),
    { description: 'details as label: value, people named as everywhere' },
  ),
});

const Choice = Type.Object({ value: Type.String(), label: Type.String() });
/** What the filters can offer: the values the audit log holds, and the devices by name. */
export const AuditValues = Type.Object({
  actions: Type.Array(Type.String()),
  actors: Type.Array(Choice),
  channels: Type.Array(Type.String()),
  targetTypes: Type.Array(Type.String()),
  devices: Type.Array(Choice, { description: 'value: the device id (target type device)' }),
});

const AuditQuery = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 64, description: 'prefix, e.g. approval. or approval.approve' })),
  actor: Type.Optional(Type.String({ maxLength: 64 })),
  targetType: Type.Optional(Type.String({ maxLength: 32 })),
  targetId: Type.Optional(Type.String({ maxLength: 64 })),
  channel: Type.Optional(Type.String({ maxLength: 16 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
});
export const AuditListQuery = Type.Intersect([
  AuditQuery,
  Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), beforeId: Type.Optional(Type.Integer({ minimum: 1 })) }),
]);
export const AuditExportQuery = Type.Intersect([
  AuditQuery,
  Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('json')]) }),
]);
