// The email-link confirm page with approval.email.link.requires.login: "Sign in with <name>" comes back to
// the same page (the return target is that page's path, checked again by the redirect validator).
import type { Services } from '../../../services.js';
import { ssoOf } from '../../../sso/index.js';
import { h } from '../email-links/page.js';
import { passwordLoginAllowed } from './password.js';

export interface SsoChoice {
  /** The sign-in link, or '' when single sign-on is off. */
  html: string;
  /** login.password.enabled: whether the username and password fields are offered too. */
  password: boolean;
}

export const NO_SSO: SsoChoice = { html: '', password: true };

export const PASSWORD_OFF =
  '<p>Password sign-in is turned off here. Go back and sign in with single sign-on, or sign in to the console first and open the link again. Nothing was changed.</p>';

export async function ssoChoice(s: Services, token: string): Promise<SsoChoice> {
  const name = await ssoOf(s).button();
  const password = (await s.params.params()).bool('login.password.enabled');
  if (!name) return { html: '', password: true };
  const back = encodeURIComponent(`/email/approval/${token}`);
  return { html: `<p><a class="sso" href="/api/v1/sso/login?return=${h(back)}">Sign in with ${h(name)}</a> to confirm.</p>`, password };
}

/** With login.password.enabled = false, the confirm form's password is refused (the break-glass account aside). */
export async function passwordOff(s: Services, username: unknown): Promise<{ status: number; title: string; html: string } | null> {
  return (await passwordLoginAllowed(s, String(username ?? '').slice(0, 200)))
    ? null
    : { status: 403, title: 'Password sign-in is off', html: PASSWORD_OFF };
}
