// Connect: per device I may reach, each way in (protocol), what it needs and the command or link.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const ConnectWay = Type.Object({
  protocol: Type.String(),
  outcome: Type.String(),
  why: Type.String(),
  requireReason: Type.Boolean(),
  approverManager: Type.Array(Type.String()),
  noEligibleApprover: Type.Boolean(),
  /** The command to copy (ssh, sftp) or the link to open (http); null where the console offers none yet (rdp). */
  command: Nullable(Type.String()),
  link: Nullable(Type.String()),
  /** My request for this device and protocol that waits for a decision, if any. */
  waiting: Nullable(Type.Object({ id: Type.Integer(), expiresAt: Nullable(Type.String()) })),
});
export const ConnectTarget = Type.Object({
  device: Type.String(),
  group: Nullable(Type.String()),
  accounts: Type.Array(Type.String()),
  ways: Type.Array(ConnectWay),
});
