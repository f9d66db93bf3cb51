// Approval workflows: user group x device group, ordered levels with authority, quorum and escalation.
import { Type } from '@sinclair/typebox';
import { Name, Nullable } from '../schema.js';

export const Workflow = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  userGroup: Type.String(),
  deviceGroup: Type.String(),
  levels: Type.Array(
    Type.Object({
      level: Type.Integer(),
      authority: Type.String(),
      quorum: Type.Integer(),
      escalateAfterMinutes: Nullable(Type.Integer()),
    }),
  ),
});

/** A level as the console sends it; `authority` is written as in the CLI (group-manager, group-members:dba, users:a,b, line-manager). */
export const WorkflowLevelIn = Type.Object(
  {
    authority: Type.String({ minLength: 1, maxLength: 600 }),
    quorum: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    escalateAfterMinutes: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 10080 }))),
  },
  { additionalProperties: false },
);
export const NewWorkflow = Type.Object(
  {
    name: Name,
    userGroup: Type.String({ maxLength: 64 }),
    deviceGroup: Type.String({ maxLength: 64 }),
    levels: Type.Array(WorkflowLevelIn, { minItems: 1, maxItems: 5 }),
  },
  { additionalProperties: false },
);
export const WorkflowByName = Type.Object({ name: Type.String({ maxLength: 64 }) });
