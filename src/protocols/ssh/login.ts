// Logging in to the gateway: password or a public key registered on the user, or a console link
// (sso-login.ts) for ssh.login.method=sso; then — when the target needs a reason — a keyboard-interactive
// prompt for it. Asking during authentication works the same for ssh, sftp and scp, which have no
// terminal of their own once the session starts.
import ssh2, { type AuthContext, type AuthenticationType, type KeyboardAuthContext, type PublicKeyAuthContext } from 'ssh2';
import type { Services } from '../../services.js';
import type { User } from '../../core/types.js';
import { needsReason } from './gate.js';
import { waitWords, type Refusal } from '../../core/limiter.js';
import { parseTarget, printable, type Target } from './target.js';
import { SsoPrompt } from './sso-login.js';

const { utils } = ssh2;

export interface LoginResult {
  user: User;
  target: Target;
  method: LoginMethod;
  /** The reason typed at the prompt; null when none was asked or the user deferred to GATEHOUSE_REASON. */
  reason: string | null;
}

export type LoginMethod = 'password' | 'publickey' | 'sso';

const PRIMARY: AuthenticationType[] = ['publickey', 'password'];
const REASON_ROUNDS = 3;

/** One client connection's authentication. `result` is set once the client is in. */
export class Login {
  result: LoginResult | null = null;
  private primary: { user: User; method: LoginMethod } | null = null;
  /** Set at the first attempt: the link prompt, when this user logs in through the console (ssh.login.method). */
  private sso: SsoPrompt | null | undefined;
  private target: Target | null = null;
  /** Set after the password or key when the user needs the TOTP second factor (asked by keyboard-interactive). */
  private secondFactorPending = false;
  private secondFactorFails = 0;

  constructor(
    private readonly s: Services,
    private readonly clientAddr: string,
    /** Ends the connection with words OpenSSH prints even in batch mode (before a session exists). */
    private readonly hangUp: (text: string) => void,
    /** Gives the connection this long to finish logging in (a link login waits for the browser). */
    private readonly allowLogin: (ms: number) => void = () => {},
  ) {}

  handle(ctx: AuthContext): void {
    this.step(ctx).catch((err) => {
      // Fail closed, but say why: "Permission denied" would send the user hunting for a wrong password.
      this.s.log.warn({ err: String(err), addr: this.clientAddr }, 'ssh login failed with an error');
      // No USERAUTH_FAILURE first: the client would give up and print "Permission denied" before
      // reading the disconnect message.
      this.hangUp(
        'Gatehouse cannot check logins right now (its database is unavailable or failing). Try again in a minute; if it lasts, tell an administrator.',
      );
    });
  }

  private async step(ctx: AuthContext): Promise<void> {
    this.target ??= parseTarget(ctx.username);
    const t = this.target;
    if (!this.primary) {
      if (this.sso === undefined) this.sso = t.user && (await this.s.sshSso.methodFor(t.user)) === 'sso' ? this.ssoPrompt(t.user) : null;
      // Only the link: a key or password of an SSO user does not log in.
      if (this.sso)
        return ctx.method === 'keyboard-interactive' ? this.sso.handle(ctx as KeyboardAuthContext) : ctx.reject(['keyboard-interactive']);
    }
    if (ctx.method === 'keyboard-interactive') {
      if (this.primary && this.secondFactorPending) return this.askSecondFactor(ctx as KeyboardAuthContext);
      if (this.primary) return this.askReason(ctx as KeyboardAuthContext, 1, null);
      return ctx.reject(PRIMARY);
    }
    if (this.primary) return ctx.reject(['keyboard-interactive'], true);
    if (ctx.method !== 'password' && ctx.method !== 'publickey') return ctx.reject(PRIMARY);
    if (ctx.method === 'publickey') {
      const pk = ctx as PublicKeyAuthContext;
      // Keys cannot be guessed, so a user-scope block (a password guesser) does not lock key logins out.
      if (!t.user) return ctx.reject(PRIMARY);
      const blocked = await this.s.limiter.addressBlocked(this.clientAddr);
      if (blocked) return this.refuse(ctx, null, blocked);
      const parsed = utils.parseKey(pk.key.data);
      if (parsed instanceof Error || Array.isArray(parsed)) return ctx.reject(PRIMARY);
      const user = await this.s.auth.verifyPublicKey(t.user, `${parsed.type} ${pk.key.data.toString('base64')}`);
      if (!user) return ctx.reject(PRIMARY);
      // Without a signature the client only asks whether this key would do.
      if (!pk.signature || !pk.blob) return ctx.accept();
      if (parsed.verify(pk.blob, pk.signature, pk.hashAlgo) !== true) return this.failed(ctx, t.user, 'publickey');
      return this.primaryDone(ctx, user, 'publickey');
    }
    const password = (ctx as AuthContext & { password: string }).password;
    // Reserved before the check: parallel guesses on any node cannot pass the limit.
    const attempt = await this.s.limiter.reserve({ kind: 'password', user: t.user, addr: this.clientAddr });
    if (!attempt.ok) return this.refuse(ctx, t.user, attempt);
    const user = t.user && password.length <= 1024 ? await this.s.auth.verifyPassword(t.user, password) : null;
    if (!user) return this.failed(ctx, t.user ?? printable(ctx.username, 64), 'password');
    await attempt.succeeded();
    return this.primaryDone(ctx, user, 'password');
  }

  private ssoPrompt(username: string): SsoPrompt {
    return new SsoPrompt(this.s, username, this.clientAddr, {
      done: (ctx, user) => this.primaryDone(ctx, user, 'sso'),
      refuse: (ctx, user, r) => this.refuse(ctx, user, r),
      hangUp: this.hangUp,
      allow: this.allowLogin,
    });
  }

  /** Refuses without checking anything: audited once per key and window, and the client is told why. */
  private async refuse(ctx: AuthContext, user: string | null, r: Refusal, kind: 'password' | 'code' = 'password'): Promise<void> {
    if (r.first) {
      await this.s.audit({
        actor: user ?? '-',
        channel: 'ssh',
        action: 'ssh.login.blocked',
        targetType: 'user',
        targetId: user ?? undefined,
        details: { clientAddr: this.clientAddr, scope: r.scope, kind, retryAfterSeconds: Math.ceil(r.retryAfterMs / 1000) },
      });
    }
    const what = kind === 'code' ? 'wrong codes' : 'failed logins';
    this.hangUp(`Too many ${what} ${r.scope === 'user' ? `for ${user}` : 'from your address'}: try again in ${waitWords(r.retryAfterMs)}.`);
    ctx.reject(kind === 'code' ? [] : PRIMARY);
  }

  private async failed(ctx: AuthContext, user: string, method: string): Promise<void> {
    const known = this.target?.user ?? null;
    await this.s.audit({
      actor: user,
      channel: 'ssh',
      action: 'ssh.login.failed',
      targetType: 'user',
      targetId: known ?? undefined,
      details: { clientAddr: this.clientAddr, method },
    });
    ctx.reject(PRIMARY);
  }

  private async primaryDone(ctx: AuthContext, user: User, method: LoginMethod): Promise<void> {
    const t = this.target!;
    await this.s.audit({
      actor: user.username,
      actorId: user.id,
      channel: 'ssh',
      action: 'ssh.login',
      targetType: 'user',
      targetId: user.id,
      details: { clientAddr: this.clientAddr, method, target: printable(ctx.username, 200) },
    });
    this.primary = { user, method };
    // After the link the next questions follow in the same keyboard-interactive exchange.
    const kbd = ctx.method === 'keyboard-interactive' ? (ctx as KeyboardAuthContext) : null;
    if (await this.s.auth.secondFactorRequired(user)) {
      this.secondFactorPending = true;
      return kbd ? this.askSecondFactor(kbd) : ctx.reject(['keyboard-interactive'], true);
    }
    if (t.device && !t.error && (await needsReason(this.s, user, t.device, t.account, ['ssh', 'sftp'])))
      return kbd ? this.askReason(kbd, 1, null) : ctx.reject(['keyboard-interactive'], true);
    this.result = { user, target: t, method, reason: null };
    ctx.accept();
  }

  /** The TOTP code (or a recovery code), then the reason when the target needs one, in the same round. */
  private async askSecondFactor(ctx: KeyboardAuthContext): Promise<void> {
    const { user, method } = this.primary!;
    const t = this.target!;
    ctx.prompt(
      [{ prompt: 'Verification code: ', echo: false }],
      'Gatehouse',
      'Enter the code from your authenticator app (or a recovery code).\nNo app set up yet? Log in to the console once to set it up.',
      (answers) => {
        if (!Array.isArray(answers)) return;
        void (async () => {
          const attempt = await this.s.limiter.reserve({ kind: 'code', user: user.username, addr: this.clientAddr });
          if (!attempt.ok) return this.refuse(ctx, user.username, attempt, 'code');
          if (!(await this.s.auth.verifyTotp(user, String(answers[0] ?? '')))) {
            this.secondFactorFails++;
            await this.s.audit({
              actor: user.username,
              actorId: user.id,
              channel: 'ssh',
              action: 'ssh.login.second-factor-failed',
              targetType: 'user',
              targetId: user.id,
              details: { clientAddr: this.clientAddr },
            });
            // Three wrong codes end the connection: no methods left to try.
            return ctx.reject(this.secondFactorFails >= 3 ? [] : ['keyboard-interactive'], this.secondFactorFails < 3);
          }
          await attempt.succeeded();
          this.secondFactorPending = false;
          await this.s.audit({
            actor: user.username,
            actorId: user.id,
            channel: 'ssh',
            action: 'ssh.login.second-factor',
            targetType: 'user',
            targetId: user.id,
            details: { clientAddr: this.clientAddr, method },
          });
          if (t.device && !t.error && (await needsReason(this.s, user, t.device, t.account, ['ssh', 'sftp'])))
            return this.askReason(ctx, 1, null);
          this.result = { user, target: t, method, reason: null };
          ctx.accept();
        })().catch(() => ctx.reject(PRIMARY));
      },
    );
  }

  private async askReason(ctx: KeyboardAuthContext, round: number, previous: string | null): Promise<void> {
    const { user, method } = this.primary!;
    const t = this.target!;
    const min = (await this.s.params.params()).int('approval.reason.min.length');
    const instructions =
      round === 1
        ? `Access to ${t.device} needs approval, with a reason of at least ${min} characters.\nPress Enter alone to use the one given with -o SetEnv=GATEHOUSE_REASON=...`
        : `The reason must be at least ${min} characters (you typed ${previous?.length ?? 0}).`;
    ctx.prompt([{ prompt: 'Reason: ', echo: true }], 'Gatehouse', instructions, (answers) => {
      if (!Array.isArray(answers)) return; // the client gave up on this round
      const reason = String(answers[0] ?? '').trim();
      if (reason && reason.length < min && round < REASON_ROUNDS) {
        this.askReason(ctx, round + 1, reason).catch(() => ctx.reject(PRIMARY));
        return;
      }
      // A reason still too short is refused when the request is made, with a message on the session.
      this.result = { user, target: t, method, reason: reason || null };
      ctx.accept();
    });
  }
}
