// Asking the engine for access: the request it creates or reuses, or why it refused, as data.
import type { RequestInput, RequestResult } from '../approvals/service.js';
import { GatehouseError } from '../errors.js';
import type { ApprovalsPort, AskRefusal } from './types.js';

/** The engine's refusal as the gate's: nothing else, and no other error, lets anyone through. */
export function refusalOf(err: unknown): AskRefusal {
  if (!(err instanceof GatehouseError)) return { kind: 'refused', reason: 'error', error: err };
  const base = { kind: 'refused' as const, message: err.message, error: err };
  switch (err.code) {
    case 'reason_required':
      return { ...base, reason: 'reason-required' };
    case 'no_approver':
      return { ...base, reason: 'no-approver' };
    case 'forbidden':
      // Instant approval switched off is worth saying; any other refusal reads as "no access".
      return { ...base, reason: err.message.startsWith('instant approval') ? 'not-allowed' : 'denied' };
    default:
      return { ...base, reason: 'not-allowed' };
  }
}

/** request(), with its refusals as values. */
export async function ask(approvals: Pick<ApprovalsPort, 'request'>, input: RequestInput): Promise<RequestResult | AskRefusal> {
  try {
    return await approvals.request(input);
  } catch (err) {
    return refusalOf(err);
  }
}
