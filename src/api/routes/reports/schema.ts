// Approval reports: the period (ISO 8601; the last 30 days by default) and the format.
import { Type } from '@sinclair/typebox';

export const ReportQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 40 })),
  until: Type.Optional(Type.String({ maxLength: 40 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
});
