// The login page's single sign-on part: "Sign in with <name>" (back to this page after the provider),
// the password form folded away when login.password.enabled is false (break-glass), and the second-factor
// ticket a single sign-on hands over in the URL fragment.
import { useEffect, useState, type ReactNode } from 'react';
import { get } from './api';

interface SsoStatus {
  sso: { name: string } | null;
  passwordLogin: boolean;
}

/** A second-factor ticket from the SSO callback (#sso-second-factor=…&enrol=&passkey=&totp=), taken out of the URL once. */
export function ssoTicket(): { ticket: string; enrol: boolean; passkey: boolean; totp: boolean } | null {
  const h = new URLSearchParams(location.hash.slice(1));
  const ticket = h.get('sso-second-factor');
  if (!ticket) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return { ticket, enrol: h.get('enrol') === '1', passkey: h.get('passkey') === '1', totp: h.get('totp') === '1' };
}

/** The SSO button, whether the password form shows, and the break-glass link that unfolds it. */
export function useSsoLogin(): { button: ReactNode; passwordShown: boolean; fold: ReactNode } {
  const [st, setSt] = useState<SsoStatus | null>(null);
  const [unfolded, setUnfolded] = useState(false);
  useEffect(() => {
    get<SsoStatus>('/sso/status').then(setSt, () => setSt({ sso: null, passwordLogin: true }));
  }, []);
  const back = encodeURIComponent(location.pathname + location.search);
  const button = st?.sso ? (
    <p>
      <a className="button sso" href={`/api/v1/sso/login?return=${back}`}>
        Sign in with {st.sso.name}
      </a>
    </p>
  ) : null;
  const fold = (
    <p>
      <button type="button" className="link" onClick={() => setUnfolded(true)}>
        Break-glass sign-in with a password
      </button>
    </p>
  );
  return { button, passwordShown: !st || st.passwordLogin || unfolded, fold };
}
