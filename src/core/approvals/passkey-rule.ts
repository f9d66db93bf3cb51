// approval.decision.requires.passkey: one rule for every channel, applied by the approval engine. A
// person's decision carries a fresh WebAuthn assertion whose challenge was made for exactly this action on
// exactly this request by this user; channels that cannot carry one are refused, naming the parameter.
import type { Params } from '../params.js';
import { decisionScope, PASSKEY_PARAM, refused, type DecisionAction, type PasskeyUse } from '../passkeys.js';
import type { Channel, User } from '../types.js';

/** What the engine needs from the passkey service (core/passkeys.ts). */
export interface DecisionPasskeys {
  verify(user: User, purpose: 'decide', scope: string, response: unknown, why: string): Promise<PasskeyUse>;
}

/** The channels a person decides on that can carry an assertion: the console and the email link's confirm page. */
const CARRIES: readonly Channel[] = ['web', 'email-link'];

const WORDS: Partial<Record<Channel, string>> = {
  api: 'an API token (the CLI included)',
  cli: 'the CLI',
  'email-reply': 'an email reply',
  ssh: 'the SSH menu',
};

/**
 * The passkey that confirmed `action` on `subject` (a request id, or the delegate for a delegation), or null
 * when the parameter is off. Throws passkey_required when it is on and the decision carries no good assertion.
 */
export async function decisionPasskey(
  params: Params,
  passkeys: DecisionPasskeys | undefined,
  actor: User,
  action: DecisionAction,
  subject: number | string,
  channel: Channel,
  assertion: unknown,
): Promise<PasskeyUse | null> {
  if (!params.bool(PASSKEY_PARAM)) return null;
  if (!CARRIES.includes(channel) || !passkeys)
    throw refused(
      `${PASSKEY_PARAM} is on: every decision needs a fresh passkey confirmation, which ${WORDS[channel] ?? `the ${channel} channel`} cannot carry. Decide in the console or on the email link's confirm page`,
    );
  const what = typeof subject === 'number' ? `request #${subject}` : subject;
  return passkeys.verify(
    actor,
    'decide',
    decisionScope(action, subject),
    assertion,
    `${PASSKEY_PARAM} is on: to ${action} ${what}, confirm with your passkey`,
  );
}

/** The audit's record of the passkey that confirmed a decision. */
export const passkeyDetails = (u: PasskeyUse | null) => (u ? { passkey: { name: u.name, credentialId: u.credentialId } } : {});
