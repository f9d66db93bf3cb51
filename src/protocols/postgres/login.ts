// The Gatehouse login over the PostgreSQL password round: the user's password (or directory password)
// under the one login limiter, then the second factor where the group requires it. libpq answers a
// second password round with the same password, so the code may also follow the password: `secret:123456`.
import type { User } from '../../core/types.js';
import { waitWords } from '../../core/limiter.js';
import { printable, type Target } from '../../core/target.js';
import type { Services } from '../../services.js';
import { askPassword } from './client.js';
import type { FrameIO } from './io.js';

export type LoginResult = { ok: true; user: User } | { ok: false; message: string; audit: string };

export const CODE_HINT = 'this account needs a second factor: give your password followed by a colon and your code, like  secret:123456';

export async function pgLogin(s: Services, io: FrameIO, t: Target, addr: string): Promise<LoginResult> {
  const password = await askPassword(io);
  const attempt = await s.limiter.reserve({ kind: 'password', user: t.user, addr });
  if (!attempt.ok)
    return {
      ok: false,
      message: `too many failed logins ${attempt.scope === 'user' ? `for ${t.user}` : 'from your address'}: try again in ${waitWords(attempt.retryAfterMs)}`,
      audit: 'blocked',
    };
  const verify = (pw: string) => (t.user && pw.length <= 1024 ? s.auth.verifyPassword(t.user, pw) : Promise.resolve(null));
  let user = await verify(password);
  let code: string | null = null;
  const split = /^([\s\S]*):([A-Za-z0-9-]{6,32})$/.exec(password);
  if (!user && split) {
    user = await verify(split[1]);
    code = split[2];
  }
  if (!user) return { ok: false, message: '', audit: 'failed' };
  await attempt.succeeded();
  if (!(await s.auth.secondFactorRequired(user))) return { ok: true, user };
  if (code === null) {
    const again = await askPassword(io);
    if (again === password) return { ok: false, message: CODE_HINT, audit: 'second-factor-missing' };
    code = again;
  }
  const c = await s.limiter.reserve({ kind: 'code', user: user.username, addr });
  if (!c.ok)
    return { ok: false, message: `too many wrong codes for ${user.username}: try again in ${waitWords(c.retryAfterMs)}`, audit: 'blocked' };
  if (!(await s.auth.verifyTotp(user, code))) return { ok: false, message: '', audit: 'second-factor-failed' };
  await c.succeeded();
  return { ok: true, user };
}

/** What the audit log keeps of a login name. */
export const shownName = (raw: string) => printable(raw, 200);
