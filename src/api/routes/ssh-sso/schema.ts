// SSH login through a link: the page's view of a code, its confirmation, and the per-group login method.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

/** "ABCD-EFGH" as printed; the page may pass it in lower case or without the dash. */
export const SshSsoCodeParam = Type.Object({ code: Type.String({ minLength: 1, maxLength: 20 }) });
export const SshSsoState = Type.Union(['pending', 'confirmed', 'used', 'expired'].map((s) => Type.Literal(s)));
export const SshSsoView = Type.Object({
  username: Type.String(),
  clientAddr: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  secondsLeft: Type.Integer(),
  state: SshSsoState,
});
export const SshLoginMethod = Type.Union([Type.Literal('key-or-password'), Type.Literal('sso')]);
export const SshSsoGroupParam = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
/** null removes the group's own method: the parameter ssh.login.method applies. */
export const SshSsoGroupIn = Type.Object({ method: Nullable(SshLoginMethod) }, { additionalProperties: false });
export const SshSsoGroupMethod = Type.Object({ group: Type.String(), method: Nullable(SshLoginMethod) });
export const SshSsoGroupMethods = Type.Object({ items: Type.Array(SshSsoGroupMethod) });
