// The console's Connect page: per device I may reach, each way in with what it needs and how to start it.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { Decision, Device } from '../core/types.js';
import { presentDecision } from './approvals.js';

/** How to start a connection: the command to copy (ssh, sftp) or the link to open (http). */
export interface Start {
  command: string | null;
  link: string | null;
}

export function presentWay(p: PolicySnapshot, protocol: string, dec: Decision, start: Start) {
  const shown = presentDecision(p, dec) as { approverManager?: string[]; noEligibleApprover?: boolean };
  return {
    protocol,
    outcome: dec.outcome,
    why: dec.why,
    requireReason: dec.outcome === 'approval-required' && dec.requireReason,
    approverManager: shown.approverManager ?? [],
    noEligibleApprover: shown.noEligibleApprover ?? false,
    command: start.command,
    link: start.link,
  };
}

export function presentTarget(p: PolicySnapshot, d: Device, ways: ReturnType<typeof presentWay>[]) {
  return {
    device: d.name,
    group: d.groupId === null ? null : (p.deviceGroupsById.get(d.groupId)?.name ?? null),
    accounts: (p.accountsOfDevice.get(d.id) ?? []).map((a) => a.name),
    ways,
  };
}
