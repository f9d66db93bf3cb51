// Proxied sessions (rows of the `sessions` table) with names instead of ids.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import { iso } from './time.js';
import { personById } from './people.js';

export function presentSession(
  p: PolicySnapshot,
  r: {
    id: number;
    user_id: number;
    device_id: number;
    account_id: number;
    protocol: string;
    approval_id: number | null;
    client_addr: string | null;
    node_id: string;
    started_at: number;
    ended_at: number | null;
    end_reason: string | null;
    bytes_in: number;
    bytes_out: number;
    recording?: string | null;
    recording_deleted_at?: number | null;
  },
) {
  return {
    id: r.id,
    user: personById(p, r.user_id),
    device: p.devicesById.get(r.device_id)?.name ?? `#${r.device_id}`,
    account: (p.accountsOfDevice.get(r.device_id) ?? []).find((a) => a.id === r.account_id)?.name ?? `#${r.account_id}`,
    protocol: r.protocol,
    approvalId: r.approval_id,
    clientAddress: r.client_addr,
    node: r.node_id,
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    endReason: r.end_reason,
    live: r.ended_at === null,
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    /** A recording exists (GET /api/v1/sessions/:id/recording, admins). */
    recording: !!r.recording && !r.recording_deleted_at,
  };
}
