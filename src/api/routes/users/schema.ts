// Users: the record every user list shows, and what an administrator sends to add or change one.
import { Type } from '@sinclair/typebox';
import { Nullable, Username } from '../schema.js';

export const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  email: Nullable(Type.String()),
  manager: Nullable(Type.String()),
  admin: Type.Boolean(),
  disabled: Type.Boolean(),
  source: Type.String(),
  groups: Type.Array(Type.String()),
});

/** The user groups a user is a member of (the whole list: groups not named are left). */
const Groups = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 200 });

export const NewUser = Type.Object(
  {
    username: Username,
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
    sshKeys: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 20 })),
    manager: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    admin: Type.Optional(Type.Boolean()),
    groups: Type.Optional(Groups),
  },
  { additionalProperties: false },
);

export const UserPatch = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
    addSshKeys: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 20 })),
    manager: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    admin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean()),
    groups: Type.Optional(Groups),
  },
  { additionalProperties: false },
);

export const ByUsername = Type.Object({ username: Type.String({ maxLength: 64 }) });
export const UserKeys = Type.Object({ items: Type.Array(Type.Object({ fingerprint: Type.String(), comment: Nullable(Type.String()) })) });
export const PasswordChange = Type.Object(
  { current: Type.String({ maxLength: 1024 }), password: Type.String({ minLength: 8, maxLength: 1024 }) },
  { additionalProperties: false },
);
