// Passkeys (WebAuthn): my passkeys, enrolment, the login's second step, and a decision's challenge.
import { Type } from '@sinclair/typebox';
import { Time } from '../schema.js';

const B64 = (max: number) => Type.String({ maxLength: max, pattern: '^[A-Za-z0-9_-]*={0,2}$' });

/** What @simplewebauthn/browser's startAuthentication() answers; sizes capped well above real ones. */
export const PasskeyAssertion = Type.Object(
  {
    id: B64(1400),
    rawId: B64(1400),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64(4096),
        authenticatorData: B64(4096),
        signature: B64(1024),
        userHandle: Type.Optional(B64(1024)),
      },
      { additionalProperties: false },
    ),
    clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true, maxProperties: 8 })),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

/** What startRegistration() answers. */
export const PasskeyAttestation = Type.Object(
  {
    id: B64(1400),
    rawId: B64(1400),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64(4096),
        attestationObject: B64(8192),
        authenticatorData: Type.Optional(B64(8192)),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 8 })),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        publicKey: Type.Optional(B64(4096)),
      },
      { additionalProperties: false },
    ),
    clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true, maxProperties: 8 })),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const PasskeyView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  createdAt: Time,
  lastUsedAt: Time,
});
export const MyPasskeys = Type.Object({ items: Type.Array(PasskeyView), decisionsNeedPasskey: Type.Boolean() });
export const NewPasskey = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }), response: PasskeyAttestation },
  { additionalProperties: false },
);
export const PasskeyId = Type.Object({ id: Type.Integer({ minimum: 1 }) });
/** WebAuthnOptions for navigator.credentials.create() / get(), as JSON (challenge and ids base64url). */
export const WebAuthnOptions = Type.Object({}, { additionalProperties: true });
export const PasskeyTicket = Type.Object({ ticket: Type.String({ minLength: 10, maxLength: 100 }) }, { additionalProperties: false });
export const TicketPasskeyAssertion = Type.Object(
  { ticket: Type.String({ minLength: 10, maxLength: 100 }), response: PasskeyAssertion },
  { additionalProperties: false },
);
export const PasskeyDecisionAction = Type.Union([
  Type.Literal('approve'),
  Type.Literal('reject'),
  Type.Literal('revoke'),
  Type.Literal('escalate'),
  Type.Literal('cancel'),
]);
export const DecisionChallengeIn = Type.Object({ action: PasskeyDecisionAction }, { additionalProperties: false });
export const PasskeyHolders = Type.Object({
  items: Type.Array(Type.Object({ username: Type.String(), passkeys: Type.Integer() })),
});
export const PasskeyUser = Type.Object({ username: Type.String({ maxLength: 64 }) });
