// The user behind a MySQL login: target parsed from the user name, the Gatehouse (or directory)
// password under the one login limiter, then the second factor and the reason where needed, asked as
// `dialog` questions (MariaDB clients show them as prompts).
import { waitWords, type Refusal } from '../../core/limiter.js';
import { parseTarget } from '../../core/target.js';
import type { User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { needsReason } from '../ssh/gate.js';
import { clean, NO_ACCESS } from './gate.js';
import { ask, canAsk, type ClientLogin, type Question } from './login.js';

export const TARGET_SYNTAX = "connect as -u user@device or -u user@account@device, e.g. 'mysql -h gateway -P 3307 -u alice@db01 --ssl -p'";

export type Checked =
  { ok: true; user: User; device: string; account: string | null; reason: string | null } | { ok: false; message: string };

export async function checkUser(s: Services, login: ClientLogin, addr: string, ms: number): Promise<Checked> {
  const raw = login.response.username;
  const t = parseTarget(raw, TARGET_SYNTAX);
  const attempt = await s.limiter.reserve({ kind: 'password', user: t.user, addr });
  if (!attempt.ok) return blocked(s, t.user, addr, attempt, 'password');
  const user = t.user && login.password.length <= 1024 ? await s.auth.verifyPassword(t.user, login.password) : null;
  if (!user) {
    await audit(s, null, t.user ?? clean(raw, 64), 'mysql.login.failed', { clientAddr: addr, method: 'password' });
    return { ok: false, message: NO_ACCESS(raw) };
  }
  await attempt.succeeded();
  await audit(s, user, user.username, 'mysql.login', { clientAddr: addr, method: 'password', target: clean(raw, 200) });
  if (t.error) return { ok: false, message: t.error };
  if (!t.device) return { ok: false, message: `Name the device: ${TARGET_SYNTAX}` };
  const needCode = await s.auth.secondFactorRequired(user);
  const needReason = await needsReason(s, user, t.device, t.account, ['mysql']);
  if ((needCode || needReason) && !canAsk(login))
    return {
      ok: false,
      message: `${needCode ? 'A verification code' : 'A reason'} is needed, and only a client that follows the server's choice of login method (caching_sha2_password) can be asked for it`,
    };
  const questions: Question[] = [];
  if (needCode) questions.push({ prompt: 'Verification code (authenticator app, or a recovery code): ', secret: true });
  if (needReason) questions.push({ prompt: `Reason for connecting to ${t.device}: `, secret: false });
  // Answers wait for a person at a prompt: minutes, not the packet deadline.
  const answers = questions.length ? await ask(login, questions, Math.max(ms, 5 * 60_000)) : [];
  if (needCode) {
    const refused = await secondFactor(s, user, answers[0] ?? '', addr);
    if (refused) return refused;
  }
  const reason = needReason ? clean((answers[answers.length - 1] ?? '').trim(), 1000) || null : null;
  return { ok: true, user, device: t.device, account: t.account, reason };
}

/** The verification code (TOTP or a recovery code) under the limiter; null when it passed. */
async function secondFactor(s: Services, user: User, code: string, addr: string): Promise<Checked | null> {
  const attempt = await s.limiter.reserve({ kind: 'code', user: user.username, addr });
  if (!attempt.ok) return blocked(s, user.username, addr, attempt, 'code');
  if (!(await s.auth.verifyTotp(user, code.trim()))) {
    await audit(s, user, user.username, 'mysql.login.second-factor-failed', { clientAddr: addr });
    return { ok: false, message: 'Access denied: wrong verification code' };
  }
  await attempt.succeeded();
  await audit(s, user, user.username, 'mysql.login.second-factor', { clientAddr: addr });
  return null;
}

async function blocked(s: Services, user: string | null, addr: string, r: Refusal, kind: 'password' | 'code'): Promise<Checked> {
  if (r.first)
    await audit(s, null, user ?? '-', 'mysql.login.blocked', {
      clientAddr: addr,
      scope: r.scope,
      kind,
      retryAfterSeconds: Math.ceil(r.retryAfterMs / 1000),
    });
  const what = kind === 'code' ? 'wrong codes' : 'failed logins';
  return {
    ok: false,
    message: `Too many ${what} ${r.scope === 'user' ? `for ${user}` : 'from your address'}: try again in ${waitWords(r.retryAfterMs)}`,
  };
}

async function audit(s: Services, user: User | null, actor: string, action: string, details: Record<string, unknown>): Promise<void> {
  await s
    .audit({ actor, actorId: user?.id, channel: 'db', action, targetType: 'user', targetId: user?.id, details })
    .catch((err: unknown) => s.log.warn({ err: String(err) }, 'mysql audit failed'));
}
