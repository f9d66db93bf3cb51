// User groups: members, managers and the "Require Connection Approval" settings.
import { Type } from '@sinclair/typebox';
import { Name } from '../schema.js';

export const UserGroup = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  requireApproval: Type.Boolean(),
  requireReason: Type.Boolean(),
  managers: Type.Array(Type.String()),
  members: Type.Array(Type.String()),
});

/** A saved group, and what the admin should know about it (e.g. approval required but no manager). */
export const SavedUserGroup = Type.Object({ ...UserGroup.properties, warnings: Type.Array(Type.String()) });

const Managers = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 });
export const NewUserGroup = Type.Object(
  {
    name: Name,
    managers: Type.Optional(Managers),
    members: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    requireApproval: Type.Optional(Type.Boolean()),
    requireReason: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const UserGroupPatch = Type.Object(
  {
    rename: Type.Optional(Name),
    managers: Type.Optional(Managers),
    members: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    requireApproval: Type.Optional(Type.Boolean()),
    requireReason: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const UserGroupByName = Type.Object({ name: Type.String({ maxLength: 64 }) });
export const GroupMember = Type.Object({ name: Type.String({ maxLength: 64 }), username: Type.String({ maxLength: 64 }) });
