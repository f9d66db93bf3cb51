// The page the SSH prompt links to (/sso/ssh/ABCD-EFGH): the signed-in user sees which SSH login waits
// (their SSH username, the client's address, the time left) and signs it in with one button. The
// console's frame has already asked for a login when there was no session, so the URL stays the link.
import { useEffect, useState } from 'react';
import type { Static } from '@sinclair/typebox';
import type * as S from '../../../src/api/schemas';
import { ApiError, get, post } from '../api';
import { FormError, useForm } from '../ui';

type View = Static<typeof S.SshSsoView>;

function useSecondsLeft(v: View | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (!v) return 0;
  return Math.max(0, Math.floor((Date.parse(v.expiresAt) - now) / 1000));
}

const minSec = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

export function SshSignInPage({ code }: { code: string }) {
  const [view, setView] = useState<View | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const f = useForm();
  const left = useSecondsLeft(view);
  useEffect(() => {
    get<View>(`/ssh-sso/${encodeURIComponent(code)}`).then(setView, (e: unknown) =>
      setRefused(e instanceof ApiError ? e.message : 'The server cannot be reached. Reload the page to try again.'),
    );
  }, [code]);
  if (refused)
    return (
      <p className="error" role="alert">
        {refused}
      </p>
    );
  if (!view) return <p className="loading">Loading…</p>;
  const state = (view.state === 'pending' || view.state === 'confirmed') && left === 0 ? 'expired' : view.state;
  return (
    <section className="card" aria-labelledby="ssh-sign-in-h">
      <h2 id="ssh-sign-in-h">An SSH login waits for you</h2>
      <dl>
        <dt>SSH username</dt>
        <dd>{view.username}</dd>
        <dt>Connecting from</dt>
        <dd>{view.clientAddr}</dd>
        <dt>Time left</dt>
        <dd>{state === 'pending' || state === 'confirmed' ? minSec(left) : '—'}</dd>
      </dl>
      {state === 'pending' && (
        <>
          <p>Only sign in if you started this login yourself, from this address, just now.</p>
          <FormError errors={f.errors} />
          <button
            type="button"
            disabled={f.busy}
            onClick={() => void f.run(async () => setView(await post<View>(`/ssh-sso/${encodeURIComponent(code)}/confirm`)))}
          >
            Sign in to SSH
          </button>
        </>
      )}
      {state === 'confirmed' && (
        <p className="ok" role="status">
          Signed in. Go back to your terminal and press Enter.
        </p>
      )}
      {state === 'used' && (
        <p className="error" role="alert">
          This link was already used. Connect with ssh again for a new one.
        </p>
      )}
      {state === 'expired' && (
        <p className="error" role="alert">
          This link has expired. Connect with ssh again for a new one.
        </p>
      )}
    </section>
  );
}
