// Approval requests as the console and scripts see them, and what they send to ask or decide.
import { Type } from '@sinclair/typebox';
import { Nullable, Page, Protocol, Status, Time } from '../schema.js';
import { PasskeyAssertion } from '../passkeys/schema.js';

export const Approval = Type.Object({
  id: Type.Integer(),
  status: Type.String(),
  requester: Type.String(),
  device: Type.String(),
  account: Type.String(),
  protocol: Type.String(),
  reason: Nullable(Type.String()),
  kind: Type.String(),
  createdAt: Time,
  expiresAt: Time,
  decidedAt: Time,
  decidedBy: Nullable(Type.String()),
  comment: Nullable(Type.String()),
  autoApproved: Type.Boolean(),
  grantStart: Time,
  grantEnd: Time,
  clientAddress: Nullable(Type.String()),
  route: Type.Object({ source: Type.String(), name: Type.String(), why: Type.String() }),
  currentLevel: Type.Integer(),
  levels: Type.Array(
    Type.Object({
      level: Type.Integer(),
      authority: Type.String(),
      quorum: Type.Integer(),
      escalateAfterMinutes: Nullable(Type.Integer()),
      approvers: Type.Array(Type.String()),
      escalated: Type.Boolean(),
    }),
  ),
  approverManager: Type.Array(Type.String()),
  decisions: Type.Optional(
    Type.Array(
      Type.Object({
        level: Type.Integer(),
        by: Type.String(),
        onBehalfOf: Nullable(Type.String()),
        decision: Type.String(),
        channel: Type.String(),
        comment: Nullable(Type.String()),
        at: Time,
      }),
    ),
  ),
  /** For the console's buttons: whether the caller may decide it now. */
  canDecide: Type.Boolean(),
  /** Whether a Reject needs a comment (approval.reject.comment.required); set when the caller may decide. */
  rejectCommentRequired: Type.Optional(Type.Boolean()),
});

/** The request page: the request, and the requester's recent requests for the same device. */
export const ApprovalDetail = Type.Object({
  ...Approval.properties,
  recent: Type.Array(
    Type.Object({
      id: Type.Integer(),
      status: Type.String(),
      protocol: Type.String(),
      account: Type.String(),
      createdAt: Time,
      decidedBy: Nullable(Type.String()),
      comment: Nullable(Type.String()),
    }),
  ),
});

export const ApprovalComment = Type.Object(
  { comment: Type.Optional(Type.String({ maxLength: 1000 })), passkey: Type.Optional(PasskeyAssertion) },
  { additionalProperties: false },
);
/** Escalate and cancel: no comment, but a passkey when approval.decision.requires.passkey is on. */
export const ApprovalPasskey = Type.Union([Type.Object({ passkey: Type.Optional(PasskeyAssertion) }), Type.Null()]);
export const NewApprovalRequest = Type.Object(
  {
    device: Type.String({ minLength: 1, maxLength: 64 }),
    account: Type.Optional(Type.String({ maxLength: 64 })),
    protocol: Protocol,
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    /** Request ahead (a reservation): the grant window asked for, ISO 8601. */
    start: Type.Optional(Type.String({ format: 'date-time' })),
    end: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
const Scope = Type.Union([Type.Literal('mine'), Type.Literal('to-decide'), Type.Literal('decided'), Type.Literal('all')]);
export const ApprovalListQuery = Type.Intersect([Page, Type.Object({ scope: Type.Optional(Scope), status: Type.Optional(Status) })]);
export const ApprovalAsked = Type.Object({ outcome: Type.String(), why: Type.String(), request: Nullable(Approval) });
