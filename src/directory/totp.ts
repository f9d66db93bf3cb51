// TOTP second factor (RFC 6238 via otplib): enrolment with a QR code, verification with a window of
// ±1 step, a replay guard (a code is good once: its time step must be later than the last one used),
// and single-use recovery codes stored as SHA-256 hashes. Secrets are sealed in the vault.
import { createHash, randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { Vault } from '../core/ports/crypto.js';
import type { Clock } from '../core/ports/clock.js';
import type { PolicyCache } from '../core/policy/cache.js';
import { mayApproveSomething, type DeciderFactor } from '../core/approvals/approver.js';
import type { Delegation, User } from '../core/types.js';
import type { DirectoryStore } from './store.js';

const PERIOD = 30;
const RECOVERY_CODES = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export interface Enrolment {
  /** Base32 secret, for typing into an app by hand. Shown once, at enrolment. */
  secret: string;
  otpauthUrl: string;
  /** The otpauth URL as an SVG QR code, as a data: URL (fits the console's CSP). */
  qrDataUrl: string;
  qrSvg: string;
}

const normCode = (c: string) => c.replace(/[\s-]/g, '').toLowerCase();
const hashCode = (c: string) => createHash('sha256').update(normCode(c)).digest('hex');

function recoveryCode(): string {
  const b = randomBytes(10);
  const chars = [...b].map((x) => ALPHABET[x % ALPHABET.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** Delegations to a user in force at a time (the approval store's). */
export type DelegationsTo = (userId: number, at: number) => Promise<Delegation[]>;

export class TotpService implements DeciderFactor {
  constructor(
    private readonly store: DirectoryStore,
    private readonly vault: Vault,
    private readonly policy: PolicyCache,
    private readonly clock: Clock,
    private readonly issuer: () => Promise<string> = async () => 'Gatehouse',
    private readonly delegationsTo: DelegationsTo = async () => [],
  ) {}

  async enrolled(userId: number): Promise<boolean> {
    return (await this.store.totp(userId))?.enabled === 1;
  }

  /** True when one of the user's groups requires the second factor, or approvers must and the user is one. */
  async requiredByGroup(user: User): Promise<boolean> {
    const flagged = await this.store.secondFactorGroupIds();
    const p = await this.policy.current();
    if (flagged.size && (p.groupsOfUser.get(user.id) ?? []).some((g) => flagged.has(g))) return true;
    if (!(await this.store.approversNeedSecondFactor())) return false;
    const now = this.clock.now();
    return mayApproveSomething(p, user, await this.delegationsTo(user.id, now), now);
  }

  /**
   * Asked at each decision: whoever decides is acting as an approver at that moment, so the approvers'
   * requirement applies to them whatever their role was at login.
   */
  async requiredToDecide(user: User): Promise<boolean> {
    return (await this.required(user)) || (await this.store.approversNeedSecondFactor());
  }

  /** Asked at login: a group requires it, or the user turned it on for themselves. */
  async required(user: User): Promise<boolean> {
    return (await this.enrolled(user.id)) || (await this.requiredByGroup(user));
  }

  /** Starts (or restarts) enrolment: a new secret, not in force until confirmed with a code. */
  async begin(user: User): Promise<Enrolment> {
    const secret = generateSecret();
    await this.store.putTotp(user.id, this.vault.seal(secret), this.clock.now());
    const otpauthUrl = generateURI({ issuer: await this.issuer(), label: user.username, secret, period: PERIOD });
    const qrSvg = await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, otpauthUrl, qrSvg, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(qrSvg).toString('base64')}` };
  }

  /** Confirms enrolment with a first code; returns the recovery codes (shown once), or null for a wrong code. */
  async confirm(user: User, code: string): Promise<string[] | null> {
    const row = await this.store.totp(user.id);
    if (!row) return null;
    const step = await this.match(row.secret_enc, code, row.last_step);
    if (step === null) return null;
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    await this.store.enableTotp(user.id, step, codes.map(hashCode), this.clock.now());
    return codes;
  }

  /** A TOTP code (each at most once) or an unused recovery code. */
  async verify(user: User, code: string): Promise<boolean> {
    if (typeof code !== 'string' || code.length > 32) return false;
    const row = await this.store.totp(user.id);
    if (!row || row.enabled !== 1) return false;
    const c = normCode(code);
    if (/^\d{6}$/.test(c)) {
      const step = await this.match(row.secret_enc, c, row.last_step);
      // The conditional update is the guard against two logins racing with one code.
      return step !== null && (await this.store.useStep(user.id, step));
    }
    if (/^[a-z0-9]{10}$/.test(c)) return this.store.useRecovery(user.id, hashCode(c), this.clock.now());
    return false;
  }

  async recoveryLeft(userId: number): Promise<number> {
    return this.store.recoveryLeft(userId);
  }

  async disable(userId: number): Promise<boolean> {
    return this.store.deleteTotp(userId);
  }

  private async match(secretEnc: string, code: string, lastStep: number | null): Promise<number | null> {
    const token = normCode(code);
    if (!/^\d{6}$/.test(token)) return null;
    const r = await verify({
      secret: this.vault.open(secretEnc),
      token,
      epoch: Math.floor(this.clock.now() / 1000),
      epochTolerance: PERIOD,
      period: PERIOD,
      ...(lastStep !== null ? { afterTimeStep: Number(lastStep) } : {}),
    });
    return r.valid && 'timeStep' in r ? r.timeStep : null;
  }
}
