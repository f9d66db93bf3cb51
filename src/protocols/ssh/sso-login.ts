// The SSH side of login through a link (ssh.login.method=sso, or a user with no key and no password):
// a keyboard-interactive prompt prints a console URL with a one-time code; the user opens it, signs in
// to the console and confirms; pressing Enter then finishes the login. The prompt itself carries the
// link, because OpenSSH shows a prompt's name and instructions only at its default log level, while
// the prompt reaches the terminal of ssh, sftp and scp alike.
import type { KeyboardAuthContext } from 'ssh2';
import type { Services } from '../../services.js';
import type { Refusal, Reservation } from '../../core/limiter.js';
import type { User } from '../../core/types.js';

/** Enter pressed before the browser confirmed: asked again this many times in all, then the connection ends. */
export const SSO_ROUNDS = 5;

export interface SsoHooks {
  /** The code was confirmed and spent: the login goes on (second factor, reason) in the same prompt. */
  done(ctx: KeyboardAuthContext, user: User): Promise<void>;
  /** Issuing is rate-limited like a password attempt. */
  refuse(ctx: KeyboardAuthContext, user: string, r: Refusal): Promise<void>;
  /** Ends the connection with words OpenSSH prints. */
  hangUp(text: string): void;
  /** Keeps the unauthenticated connection open this long (the link's life and a margin). */
  allow(ms: number): void;
}

export const promptText = (url: string) => `Open ${url} to sign in, then press Enter`;

const FAILED: Record<'expired' | 'used' | 'unknown' | 'refused', string> = {
  expired: 'The sign-in link expired before it was used. Connect again for a new link.',
  used: 'The sign-in link was already used. Connect again for a new link.',
  unknown: 'The sign-in link is not valid. Connect again for a new link.',
  refused: 'The sign-in at the link no longer matches this user. Connect again for a new link.',
};

/** One connection's link login: one code, asked for up to SSO_ROUNDS times. */
export class SsoPrompt {
  private issued: { code: string; url: string; expiresAt: number } | null = null;
  private attempt: Reservation | null = null;
  private rounds = 0;
  private finished = false;

  constructor(
    private readonly s: Services,
    private readonly username: string,
    private readonly clientAddr: string,
    private readonly hooks: SsoHooks,
  ) {}

  async handle(ctx: KeyboardAuthContext): Promise<void> {
    if (this.finished) return ctx.reject([]);
    if (!this.issued) {
      // Each link counts as one login attempt for the name and the address; the sign-in gives it back.
      const attempt = await this.s.limiter.reserve({ kind: 'password', user: this.username, addr: this.clientAddr });
      if (!attempt.ok) return this.hooks.refuse(ctx, this.username, attempt);
      this.attempt = attempt;
      this.issued = await this.s.sshSso.issue(this.username, this.clientAddr);
      this.hooks.allow(this.issued.expiresAt - this.s.clock.now() + 30_000);
    }
    this.ask(ctx, '');
  }

  private ask(ctx: KeyboardAuthContext, note: string): void {
    ctx.prompt([{ prompt: promptText(this.issued!.url), echo: false }], 'Gatehouse', note, (answers) => {
      if (!Array.isArray(answers)) return; // the client gave up on this round; a new one reuses the code
      this.check(ctx).catch((err) => {
        this.s.log.warn({ err: String(err), addr: this.clientAddr }, 'ssh link login failed with an error');
        this.end(ctx, 'Gatehouse cannot check logins right now. Try again in a minute; if it lasts, tell an administrator.');
      });
    });
  }

  private async check(ctx: KeyboardAuthContext): Promise<void> {
    const r = await this.s.sshSso.redeem(this.issued!.code, this.username, this.clientAddr);
    if (r.ok) {
      this.finished = true;
      await this.attempt?.succeeded();
      return this.hooks.done(ctx, r.user);
    }
    if (r.why !== 'pending') return this.end(ctx, FAILED[r.why]);
    if (++this.rounds < SSO_ROUNDS)
      return this.ask(ctx, `Not signed in at the link yet (${this.rounds} of ${SSO_ROUNDS - 1} reminders). Sign in there first.`);
    await this.s.sshSso.expired(this.username, this.clientAddr, `not confirmed after ${SSO_ROUNDS} presses of Enter`);
    this.end(ctx, `Nobody signed in at the link after ${SSO_ROUNDS} tries. Connect again for a new link.`);
  }

  private end(ctx: KeyboardAuthContext, text: string): void {
    this.finished = true;
    this.hooks.hangUp(text);
    ctx.reject([]);
  }
}
