// The administrator's policy explain: decide() for a user and a device, with a denial's real cause.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const ExplainLevel = Type.Object({
  level: Type.Integer(),
  authority: Type.String(),
  quorum: Type.Integer(),
  escalateAfterMinutes: Nullable(Type.Integer()),
  approvers: Type.Array(Type.String()),
});
export const Explained = Type.Object({
  outcome: Type.String(),
  /** What a user is told. */
  why: Type.String(),
  /** For a denial: the real cause (no account, no rule, unknown device…); null otherwise. */
  reason: Nullable(Type.String()),
  approverManager: Type.Array(Type.String()),
  noEligibleApprover: Type.Boolean(),
  requesterIsApprover: Type.Boolean(),
  route: Nullable(Type.Object({ source: Type.String(), name: Type.String(), levels: Type.Array(ExplainLevel) })),
  /** approval.grant.scope: 'protocol' or 'account'. */
  grantScope: Type.String(),
  /** The protocols one approved request for this protocol covers on the account ([] when denied). */
  grantCovers: Type.Array(Type.String()),
});
export const ExplainQuery = Type.Object({
  user: Type.String({ minLength: 1, maxLength: 200 }),
  device: Type.String({ minLength: 1, maxLength: 200 }),
  protocol: Type.Union(
    [Type.Literal('ssh'), Type.Literal('sftp'), Type.Literal('rdp'), Type.Literal('http'), Type.Literal('postgres'), Type.Literal('mysql')],
    { default: 'ssh' },
  ),
  account: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
