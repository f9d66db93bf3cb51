/** Typed errors from the core. `code` is stable and shown in API/CLI JSON; `message` is for people. */
export type ErrorCode =
  | 'not_found'
  | 'invalid'
  | 'forbidden'
  | 'conflict'
  | 'already_decided'
  | 'expired'
  | 'self_approval'
  | 'no_approver'
  | 'reason_required'
  /** The decider must prove a second factor on this channel (a new console login, a code). */
  | 'second_factor_required'
  /** approval.decision.requires.passkey: the decision needs a fresh passkey assertion made for it. */
  | 'passkey_required'
  | 'unavailable';

export class GatehouseError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'GatehouseError';
  }
}

export const notFound = (what: string) => new GatehouseError('not_found', `${what} not found`);
export const invalid = (message: string, field?: string) => new GatehouseError('invalid', message, field);
