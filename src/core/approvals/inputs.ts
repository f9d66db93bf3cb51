// What the approval engine takes and answers, and the checks on a new request's reason and window.
import { GatehouseError } from '../errors.js';
import type { Params } from '../params.js';
import type { ApprovalRequest, ApprovalStatus, Channel, Decision, Protocol } from '../types.js';
import type { FactorProof } from './approver.js';

export interface RequestInput {
  username: string;
  device: string;
  account?: string;
  protocol: Protocol;
  reason?: string | null;
  clientAddr?: string | null;
  /** A reservation: the grant window asked for ahead. */
  start?: number;
  end?: number;
  channel: Channel;
  /**
   * What the channel proved, when it can say (the API). An auto-approval is the requester deciding:
   * with 'none' and a second factor required, it is refused. Protocol logins ask the factor themselves.
   */
  proof?: FactorProof;
}

export type RequestResult =
  | { outcome: 'allowed'; decision: Decision; request?: ApprovalRequest }
  | { outcome: 'waiting' | 'approved'; request: ApprovalRequest; created: boolean; reminded: boolean; decision: Decision };

export interface DecideOpts {
  comment?: string | null;
  channel: Channel;
  /** What the channel proved about the decider; absent counts as nothing (fail closed). */
  proof?: FactorProof;
  /** A WebAuthn assertion for this decision (approval.decision.requires.passkey), as the browser sent it. */
  passkey?: unknown;
}

export interface ParamSource {
  params(): Promise<Params>;
}

const TERMINAL_MESSAGES: Record<Exclude<ApprovalStatus, 'waiting'>, string> = {
  approved: 'already approved',
  rejected: 'already rejected',
  expired: 'expired',
  cancelled: 'cancelled',
  revoked: 'revoked',
};

/** The reason as stored: trimmed, required (with a minimum length) when the route says so. */
export function checkReason(raw: string | null | undefined, required: boolean, params: Params): string | null {
  const reason = (raw ?? '').trim() || null;
  if (required) {
    const min = params.int('approval.reason.min.length');
    if (!reason) throw new GatehouseError('reason_required', `a reason is required (at least ${min} characters)`, 'reason');
    if (reason.length < min) throw new GatehouseError('reason_required', `the reason must be at least ${min} characters`, 'reason');
  }
  if (reason && (reason.length > 500 || /[\0]/.test(reason)))
    throw new GatehouseError('invalid', 'the reason must be at most 500 characters', 'reason');
  return reason;
}

/** A reservation's grant window (it waits at most until the window ends), or an instant request's deadline. */
export function requestWindow(
  input: RequestInput,
  reservation: boolean,
  params: Params,
  now: number,
): { grantStart: number | null; grantEnd: number | null; expiresAt: number | null } {
  if (reservation) {
    if (input.start === undefined || input.end === undefined)
      throw new GatehouseError('invalid', 'a reservation needs both --start and --end', 'start');
    if (!(input.end > input.start)) throw new GatehouseError('invalid', 'the reservation must end after it starts', 'end');
    if (input.end <= now) throw new GatehouseError('invalid', 'the reservation window has already ended', 'end');
    return { grantStart: input.start, grantEnd: input.end, expiresAt: input.end };
  }
  if (params.bool(`disable.instant.approval.for.${input.protocol}`))
    throw new GatehouseError(
      'forbidden',
      `instant approval is disabled for ${input.protocol}: request ahead with a start and end (a reservation)`,
    );
  const expireMin = params.int('approval.status.change.to.expire');
  return { grantStart: null, grantEnd: null, expiresAt: expireMin > 0 ? now + expireMin * 60_000 : null };
}

export function escalateAt(level: { escalateAfterMinutes: number | null } | undefined, from: number): number | null {
  return level?.escalateAfterMinutes ? from + level.escalateAfterMinutes * 60_000 : null;
}

/** The same answer as reading a request one may not see (GET /approvals/:id). */
export function foreign(id: number): GatehouseError {
  return new GatehouseError('forbidden', `approval request #${id} is neither yours nor one you may decide`);
}

export function alreadyDecided(r: ApprovalRequest): GatehouseError {
  const s = r.status as Exclude<ApprovalStatus, 'waiting'>;
  if (r.status === 'waiting')
    return new GatehouseError('already_decided', `approval request #${r.id} changed while you were deciding; look again`);
  if (s === 'expired') return new GatehouseError('expired', `approval request #${r.id} has expired and can no longer be decided`);
  return new GatehouseError('already_decided', `approval request #${r.id} is ${TERMINAL_MESSAGES[s]}`);
}

/** Comments are shown in terminals and mail: strip control characters, keep one reasonable length. */
export function cleanComment(c: string | null | undefined): string | null {
  if (c === null || c === undefined) return null;
  const s = c.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ').trim();
  if (s.length > 1000) throw new GatehouseError('invalid', 'the comment must be at most 1000 characters', 'comment');
  return s || null;
}
