// OpenID Connect: the login page's hints, the settings (never the client secret), and the leaver's answer.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const SsoStatus = Type.Object({
  /** "Sign in with <name>", or null when SSO is off. */
  sso: Nullable(Type.Object({ name: Type.String() })),
  /** The login.password.enabled parameter: false shows the password form only on demand (break-glass). */
  passwordLogin: Type.Boolean(),
});

const Claim = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:/-]+$' });

export const SsoSettingsBody = Type.Object(
  {
    issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    usernameClaim: Type.Optional(Claim),
    usernameDomain: Type.Optional(Nullable(Type.String({ maxLength: 253 }))),
    groupsClaim: Type.Optional(Nullable(Claim)),
    managerClaim: Type.Optional(Nullable(Claim)),
    scopes: Type.Optional(Type.String({ minLength: 6, maxLength: 1000 })),
    caFile: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000 }))),
    createUsers: Type.Optional(Type.Boolean()),
    syncGroups: Type.Optional(Type.Boolean()),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
  },
  { additionalProperties: false },
);

export const SsoConfigView = Type.Object({
  settings: Type.Object({
    issuer: Type.String(),
    clientId: Type.String(),
    name: Type.String(),
    usernameClaim: Type.String(),
    usernameDomain: Nullable(Type.String()),
    groupsClaim: Nullable(Type.String()),
    managerClaim: Nullable(Type.String()),
    scopes: Type.String(),
    caFile: Nullable(Type.String()),
    createUsers: Type.Boolean(),
    syncGroups: Type.Boolean(),
    timeoutSeconds: Type.Integer(),
  }),
  enabled: Type.Boolean(),
  clientSecretSet: Type.Boolean(),
  redirectUri: Type.String(),
  updatedAt: Type.Integer(),
});

export const SsoTestResult = Type.Object({
  issuer: Type.String(),
  authorizationEndpoint: Type.String(),
  tokenEndpoint: Type.String(),
  redirectUri: Type.String(),
  scopes: Type.String(),
});

export const LoginQuery = Type.Object({ return: Type.Optional(Type.String({ maxLength: 2000 })) });

export const SignOutResult = Type.Object({ sessions: Type.Integer(), tokens: Type.Integer() });
