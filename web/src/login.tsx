// Signing in to the console: password, then a TOTP code (after enrolment) when a group asks for a
// second factor; and the page shown when the session cannot be checked.
import { useEffect, useState } from 'react';
import { post } from './api';
import { passkeyLogin } from './passkey';
import type { Me } from './types';
import { Field, FormError, useForm } from './ui';
import { ssoTicket, useSsoLogin } from './sso-login';

type LoginAnswer = Me | { secondFactor: 'required' | 'enrol'; ticket: string; passkey?: boolean; totp?: boolean };
interface Enrolment {
  secret: string;
  qrDataUrl: string;
}

/** The passkey button of the second step: the browser asks the authenticator, the server checks the assertion. */
function PasskeyStep({ ticket, onIn }: { ticket: string; onIn: (m: Me) => void }) {
  const f = useForm();
  return (
    <div className="passkey-step">
      <button type="button" disabled={f.busy} onClick={() => void f.run(async () => onIn(await passkeyLogin<Me>(ticket)))}>
        Use a passkey
      </button>
      <FormError errors={f.errors} />
    </div>
  );
}

/** The second login step: a passkey, or a TOTP code (after enrolment if a group asks for one and none is set up). */
function SecondFactor({
  ticket,
  enrol,
  passkey,
  totp,
  onIn,
}: {
  ticket: string;
  enrol: boolean;
  passkey: boolean;
  totp: boolean;
  onIn: (m: Me) => void;
}) {
  const f = useForm();
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [recovery, setRecovery] = useState<{ me: Me; codes: string[] } | null>(null);
  const run = f.run;
  useEffect(() => {
    if (enrol) void run(async () => setEnrolment(await post<Enrolment>('/session/second-factor/enrol', { ticket })));
  }, [ticket, enrol]); // once per login ticket
  if (recovery)
    return (
      <div>
        <h2>Recovery codes</h2>
        <p>Keep these codes somewhere safe: each one logs you in once if you lose your phone. They are shown only now.</p>
        <ul className="codes">
          {recovery.codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={() => onIn(recovery.me)}>
          Continue
        </button>
      </div>
    );
  if (passkey && !totp)
    return (
      <div>
        <h2>Second factor</h2>
        <PasskeyStep ticket={ticket} onIn={onIn} />
      </div>
    );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void f.run(async () => {
          const r = await post<Me & { recoveryCodes?: string[] }>('/session/second-factor', { ticket, code: code.replace(/\s+/g, '') });
          if (r.recoveryCodes?.length) setRecovery({ me: r, codes: r.recoveryCodes });
          else onIn(r);
        });
      }}
    >
      <h2>Second factor</h2>
      {passkey && <PasskeyStep ticket={ticket} onIn={onIn} />}
      {enrol && enrolment && (
        <>
          <p>Your group requires a second factor. Scan this code with an authenticator app, or enter the key by hand.</p>
          <img src={enrolment.qrDataUrl} alt="QR code for the authenticator app" width={180} height={180} />
          <p>
            Key: <code className="wrap">{enrolment.secret}</code>
          </p>
        </>
      )}
      <Field label="Code from your authenticator app (or a recovery code)" name="code" errors={f.errors}>
        {(p) => (
          <input {...p} inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required />
        )}
      </Field>
      <FormError errors={f.errors} />
      <button type="submit" disabled={f.busy}>
        Verify
      </button>
    </form>
  );
}

export function Login({ onIn }: { onIn: (m: Me) => void }) {
  const f = useForm();
  const [username, setU] = useState('');
  const [password, setP] = useState('');
  const [step, setStep] = useState<{ ticket: string; enrol: boolean; passkey: boolean; totp: boolean } | null>(ssoTicket);
  const sso = useSsoLogin();
  return (
    <main className="login" id="main">
      <div className="login-box">
        <h1>Gatehouse</h1>
        {!step && sso.button}
        {step ? (
          <SecondFactor ticket={step.ticket} enrol={step.enrol} passkey={step.passkey} totp={step.totp} onIn={onIn} />
        ) : !sso.passwordShown ? (
          sso.fold
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void f.run(async () => {
                const r = await post<LoginAnswer>('/session', { username, password });
                if ('ticket' in r)
                  setStep({ ticket: r.ticket, enrol: r.secondFactor === 'enrol', passkey: !!r.passkey, totp: r.totp !== false });
                else onIn(r);
              });
            }}
          >
            <Field label="Username" name="username" errors={f.errors}>
              {(p) => <input {...p} autoComplete="username" value={username} onChange={(e) => setU(e.target.value)} required />}
            </Field>
            <Field label="Password" name="password" errors={f.errors}>
              {(p) => (
                <input
                  {...p}
                  type="password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => setP(e.target.value)}
                  required
                />
              )}
            </Field>
            <FormError errors={f.errors} />
            <button type="submit" disabled={f.busy}>
              Log in
            </button>
          </form>
        )}
      </div>
    </main>
  );
}

export function LoadFailed({ why, onRetry }: { why: string; onRetry: () => void }) {
  return (
    <main className="login" id="main">
      <div className="login-box" role="alert">
        <h1>Gatehouse</h1>
        <p className="error">The console could not load: {why}. You are not signed out; try again in a moment.</p>
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      </div>
    </main>
  );
}
