// Passkeys (WebAuthn): enrolment, the login's second factor, and the assertion a decision carries when
// approval.decision.requires.passkey is on. Every challenge is a database row bound to a user, a purpose and
// a scope (for a decision: the action and the request id); one conditional update spends it, so an
// assertion works once, on one node, for the one thing it was asked for.
import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { GatehouseError } from './errors.js';
import type { Clock } from './ports/clock.js';
import type { User } from './types.js';

export interface Passkey {
  id: number;
  userId: number;
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export type PasskeyPurpose = 'register' | 'login' | 'decide';

/** A decision a passkey may confirm; the scope of its challenge is `${action}:${subject}`. */
export type DecisionAction = 'approve' | 'reject' | 'revoke' | 'escalate' | 'cancel' | 'delegate';

export interface PasskeyChallenge {
  challenge: string;
  userId: number;
  purpose: PasskeyPurpose;
  scope: string;
  expiresAt: number;
}

/** Where passkeys and their challenges live (storage/passkey-store.ts). */
export interface PasskeyStore {
  list(userId: number): Promise<Passkey[]>;
  byCredential(credentialId: string): Promise<Passkey | undefined>;
  insert(p: Omit<Passkey, 'id' | 'lastUsedAt'>): Promise<Passkey>;
  remove(userId: number, id: number): Promise<Passkey | undefined>;
  /** Records a use: the counter moves from `old` to `next` (false when another use moved it first). */
  used(id: number, old: number, next: number, at: number): Promise<boolean>;
  /** How many passkeys each user has (users without one are absent). */
  counts(): Promise<Map<number, number>>;
  addChallenge(c: PasskeyChallenge): Promise<void>;
  /** Spends a live, unused challenge that matches all of user, purpose and scope: true exactly once. */
  spend(challenge: string, userId: number, purpose: PasskeyPurpose, scope: string, now: number): Promise<boolean>;
  pruneChallenges(before: number): Promise<void>;
}

/** The relying party: from GATEHOUSE_PUBLIC_URL (its host is the RP ID, its origin the only one accepted). */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

/** A passkey confirmed this: recorded in the audit. */
export interface PasskeyUse {
  passkeyId: number;
  name: string;
  credentialId: string;
}

const CHALLENGE_MS = 2 * 60_000;
export const MAX_PASSKEYS = 10;

export const decisionScope = (action: DecisionAction, subject: number | string) => `${action}:${subject}`;

export const refused = (message: string) => new GatehouseError('passkey_required', message);

export const PASSKEY_PARAM = 'approval.decision.requires.passkey';

/** The challenge inside an assertion's client data, or null when it is not readable. */
function challengeOf(response: { response?: { clientDataJSON?: unknown } }): string | null {
  const raw = response.response?.clientDataJSON;
  if (typeof raw !== 'string' || raw.length > 4096) return null;
  try {
    const c = (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
    return typeof c === 'string' && c.length <= 100 ? c : null;
  } catch {
    return null;
  }
}

export class PasskeyService {
  constructor(
    private readonly store: PasskeyStore,
    private readonly clock: Clock,
    readonly rp: RelyingParty,
  ) {}

  list(userId: number): Promise<Passkey[]> {
    return this.store.list(userId);
  }

  async has(userId: number): Promise<boolean> {
    return (await this.store.list(userId)).length > 0;
  }

  counts(): Promise<Map<number, number>> {
    return this.store.counts();
  }

  remove(userId: number, id: number): Promise<Passkey | undefined> {
    return this.store.remove(userId, id);
  }

  /** A new challenge row; the options carry its bytes, which the client data returns base64url-encoded. */
  private async challenge(userId: number, purpose: PasskeyPurpose, scope: string): Promise<Uint8Array<ArrayBuffer>> {
    const now = this.clock.now();
    await this.store.pruneChallenges(now - CHALLENGE_MS);
    const bytes = new Uint8Array(randomBytes(32));
    await this.store.addChallenge({
      challenge: Buffer.from(bytes).toString('base64url'),
      userId,
      purpose,
      scope,
      expiresAt: now + CHALLENGE_MS,
    });
    return bytes;
  }

  async registrationOptions(user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const mine = await this.store.list(user.id);
    if (mine.length >= MAX_PASSKEYS) throw new GatehouseError('conflict', `at most ${MAX_PASSKEYS} passkeys per user: remove one first`);
    return generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.id,
      userName: user.username,
      userDisplayName: user.displayName || user.username,
      userID: Buffer.from(`gatehouse:${user.id}`),
      challenge: await this.challenge(user.id, 'register', ''),
      timeout: CHALLENGE_MS,
      attestationType: 'none',
      excludeCredentials: mine.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransport[] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    });
  }

  /** Verifies a new credential against its single-use challenge and stores it under `name`. */
  async register(user: User, name: string, response: RegistrationResponseJSON): Promise<Passkey> {
    const challenge = challengeOf(response);
    const bad = () => new GatehouseError('invalid', 'the passkey could not be verified: try again', 'response');
    if (!challenge) throw bad();
    const v = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.rp.origin,
      expectedRPID: this.rp.id,
      requireUserVerification: true,
    }).catch(() => null);
    if (!v?.verified) throw bad();
    if (!(await this.store.spend(challenge, user.id, 'register', '', this.clock.now()))) throw bad();
    const cred = v.registrationInfo.credential;
    if (await this.store.byCredential(cred.id)) throw new GatehouseError('conflict', 'this passkey is already enrolled');
    if ((await this.store.list(user.id)).length >= MAX_PASSKEYS)
      throw new GatehouseError('conflict', `at most ${MAX_PASSKEYS} passkeys per user: remove one first`);
    return this.store.insert({
      userId: user.id,
      credentialId: cred.id,
      publicKey: Buffer.from(cred.publicKey).toString('base64url'),
      counter: cred.counter,
      transports: (cred.transports ?? []).slice(0, 8),
      name,
      createdAt: this.clock.now(),
    });
  }

  /** Options for an assertion by `user` for `purpose` and `scope`; the user must have a passkey. */
  async assertionOptions(
    user: User,
    purpose: Exclude<PasskeyPurpose, 'register'>,
    scope: string,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const mine = await this.store.list(user.id);
    if (!mine.length) throw refused(`${user.username} has no passkey: enrol one in the console (Passkeys) first`);
    return generateAuthenticationOptions({
      rpID: this.rp.id,
      challenge: await this.challenge(user.id, purpose, scope),
      timeout: CHALLENGE_MS,
      userVerification: 'required',
      allowCredentials: mine.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransport[] })),
    });
  }

  /**
   * Checks an assertion by `user` for exactly `purpose` and `scope`: the signature, user verification, the
   * challenge (spent here, once) and the counter. Throws passkey_required with `why` otherwise.
   */
  async verify(
    user: User,
    purpose: Exclude<PasskeyPurpose, 'register'>,
    scope: string,
    response: unknown,
    why: string,
  ): Promise<PasskeyUse> {
    const no = (detail: string) => refused(`${why}: ${detail}`);
    if (!response || typeof response !== 'object') throw no('no passkey assertion was sent');
    const r = response as AuthenticationResponseJSON;
    const challenge = challengeOf(r);
    if (!challenge || typeof r.id !== 'string' || r.id.length > 1400) throw no('the passkey assertion is malformed');
    const key = await this.store.byCredential(r.id);
    if (!key || key.userId !== user.id) throw no('the passkey is not one of yours');
    const v = await verifyAuthenticationResponse({
      response: r,
      expectedChallenge: challenge,
      expectedOrigin: this.rp.origin,
      expectedRPID: this.rp.id,
      requireUserVerification: true,
      credential: {
        id: key.credentialId,
        publicKey: Buffer.from(key.publicKey, 'base64url'),
        counter: key.counter,
        transports: key.transports as AuthenticatorTransport[],
      },
    }).catch((e: unknown) => (e instanceof Error && /counter/i.test(e.message) ? ('counter' as const) : null));
    // A signature counter that did not move forward: a replayed assertion, or a cloned key.
    if (v === 'counter') throw no('the assertion was already used (the passkey counter did not move forward)');
    if (!v?.verified) throw no('the passkey assertion could not be verified');
    // Spent only after the signature checks out; the scope binds it to this decision and no other.
    if (!(await this.store.spend(challenge, user.id, purpose, scope, this.clock.now())))
      throw no('the assertion was made for another action or request, was already used, or has expired: confirm again');
    const next = v.authenticationInfo.newCounter;
    if (!(await this.store.used(key.id, key.counter, next, this.clock.now())))
      throw no('the passkey counter went backwards (a cloned key?)');
    return { passkeyId: key.id, name: key.name, credentialId: key.credentialId };
  }
}
