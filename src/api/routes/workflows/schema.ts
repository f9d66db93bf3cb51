// Approval workflows: user group x device group, ordered levels with authority, quorum and escalation.
import { Type } from '@sinclair/typebox';
import { Name, Nullable } from '../schema.js';

/** A dead end found in a workflow: the field (`levels.<i>`) and why, in words. Saving still succeeds. */
export const FieldWarning = Type.Object({ field: Type.String(), message: Type.String() });

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
  warnings: Type.Array(FieldWarning),
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
/** PATCH: any of the fields; what is left out stays as it is. */
export const WorkflowPatch = Type.Partial(NewWorkflow, { additionalProperties: false });
export const WorkflowWarnings = Type.Object({ warnings: Type.Array(FieldWarning) });
export const WorkflowByName = Type.Object({ name: Type.String({ maxLength: 64 }) });
