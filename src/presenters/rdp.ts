// RDP through the API: a one-time ticket with its .rdp file, or the approval request it waits for.
import { levelApprovers } from '../core/approvals/rules.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { ApprovalRequest } from '../core/types.js';
import { personById } from './people.js';

/** The .rdp file's name: the device's, with anything a file system could mind replaced. */
export const rdpFilename = (device: string) => `${device.replace(/[^A-Za-z0-9._-]/g, '_')}.rdp`;

export function presentRdpTicket(r: {
  device: string;
  account: string;
  approvalId: number | null;
  expiresAt: number;
  ticket: string;
  file: string;
}) {
  return {
    outcome: 'allowed' as const,
    device: r.device,
    account: r.account,
    approvalId: r.approvalId,
    expiresAt: new Date(r.expiresAt).toISOString(),
    ticket: r.ticket,
    filename: rdpFilename(r.device),
    file: r.file,
  };
}

/** The request an RDP connection waits for, with who can decide it now. */
export function presentRdpWaiting(p: PolicySnapshot, r: ApprovalRequest, created: boolean) {
  const approvers = levelApprovers(r, r.currentLevel).map((id) => personById(p, id));
  return { outcome: 'waiting' as const, requestId: r.id, created, approvers };
}
