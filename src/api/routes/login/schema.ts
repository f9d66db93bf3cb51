// Console login: the credentials sent, and who is logged in as the console's start needs it.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';
import { User } from '../users/schema.js';

export const Me = Type.Object({
  user: User,
  channel: Type.String(),
  csrfToken: Nullable(Type.String()),
  /** What the console shows: admin pages, and Approval Requests for anyone who may approve something. */
  roles: Type.Object({ admin: Type.Boolean(), approver: Type.Boolean() }),
  sshPort: Type.Integer(),
  sshHost: Type.String(),
  /** The instance.name parameter: the console's header and page title. */
  instance: Type.String(),
});

export const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
