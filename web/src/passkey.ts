// Passkeys in the browser (@simplewebauthn/browser): enrol one, use one for the login's second step, and
// confirm a decision when approval.decision.requires.passkey is on. The server makes every challenge; a
// decision's is bound to its request and action, so the assertion asked for here is good for that one only.
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { get, post } from './api';

export type DecisionAction = 'approve' | 'reject' | 'revoke' | 'escalate' | 'cancel';

export const passkeysSupported = () => browserSupportsWebAuthn();

export async function enrolPasskey(name: string): Promise<void> {
  const optionsJSON = await post<PublicKeyCredentialCreationOptionsJSON>('/me/passkeys/options');
  const response = await startRegistration({ optionsJSON });
  await post('/me/passkeys', { name, response });
}

/** The login's second step with a passkey, for the ticket POST /session gave. */
export async function passkeyLogin<T>(ticket: string): Promise<T> {
  const optionsJSON = await post<PublicKeyCredentialRequestOptionsJSON>('/session/passkey/options', { ticket });
  const response = await startAuthentication({ optionsJSON });
  return post<T>('/session/passkey', { ticket, response });
}

/**
 * The body of a decision: `body`, plus the assertion for `action` on request `id` when the parameter asks
 * for one (the browser then asks for the passkey before anything is sent).
 */
export async function decisionBody<T extends object>(id: number, action: DecisionAction, body: T): Promise<T & { passkey?: unknown }> {
  const mine = await get<{ decisionsNeedPasskey: boolean }>('/me/passkeys');
  if (!mine.decisionsNeedPasskey) return body;
  const optionsJSON = await post<PublicKeyCredentialRequestOptionsJSON>(`/approvals/${id}/passkey-options`, { action });
  return { ...body, passkey: await startAuthentication({ optionsJSON }) };
}
