// Single sign-on (OpenID Connect) settings for admins: the same fields as `gatehouse sso set`. The client
// secret is write-only; "Test" discovers the provider without signing anyone in.
import { useState } from 'react';
import { ApiError, del, get, post, put } from '../api';
import { Field, FormError, useLoad } from '../ui';

interface SsoView {
  settings: {
    issuer: string;
    clientId: string;
    name: string;
    usernameClaim: string;
    usernameDomain: string | null;
    groupsClaim: string | null;
    managerClaim: string | null;
    scopes: string;
    caFile: string | null;
    createUsers: boolean;
    syncGroups: boolean;
  };
  enabled: boolean;
  clientSecretSet: boolean;
  redirectUri: string;
}

const orNull = (v: string) => (v === '' ? null : v);

function bodyOf(f: FormData): Record<string, unknown> {
  const v = (k: string) => String(f.get(k) ?? '').trim();
  const body: Record<string, unknown> = {
    issuer: v('issuer'),
    clientId: v('clientId'),
    name: v('name') || undefined,
    usernameClaim: v('usernameClaim') || undefined,
    usernameDomain: orNull(v('usernameDomain')),
    groupsClaim: orNull(v('groupsClaim')),
    managerClaim: orNull(v('managerClaim')),
    scopes: v('scopes') || undefined,
    caFile: orNull(v('caFile')),
    createUsers: f.get('createUsers') === 'on',
    syncGroups: f.get('syncGroups') === 'on',
  };
  if (v('clientSecret')) body.clientSecret = v('clientSecret');
  return body;
}

function Fields({ st, secretSet, errors }: { st: SsoView['settings'] | undefined; secretSet: boolean; errors: Record<string, string> }) {
  return (
    <>
      <Field label="Issuer URL" name="issuer" errors={errors} hint="e.g. https://login.microsoftonline.com/<tenant>/v2.0">
        {(p) => <input {...p} defaultValue={st?.issuer ?? ''} required />}
      </Field>
      <Field label="Client ID" name="clientId" errors={errors}>
        {(p) => <input {...p} defaultValue={st?.clientId ?? ''} required autoComplete="off" />}
      </Field>
      <Field
        label="Client secret"
        name="clientSecret"
        errors={errors}
        hint={secretSet ? 'A secret is stored in the vault (never shown). Leave empty to keep it.' : 'Stored encrypted in the vault.'}
      >
        {(p) => <input {...p} type="password" autoComplete="new-password" />}
      </Field>
      <Field label="Button name" name="name" errors={errors} hint='The login page says "Sign in with <name>".'>
        {(p) => <input {...p} defaultValue={st?.name ?? ''} placeholder="SSO" />}
      </Field>
      <Field label="Username claim" name="usernameClaim" errors={errors}>
        {(p) => <input {...p} defaultValue={st?.usernameClaim ?? ''} placeholder="preferred_username" />}
      </Field>
      <Field
        label="Username domain"
        name="usernameDomain"
        errors={errors}
        hint="Optional: name@this-domain signs in as name; other domains are refused."
      >
        {(p) => <input {...p} defaultValue={st?.usernameDomain ?? ''} />}
      </Field>
      <Field label="Groups claim" name="groupsClaim" errors={errors}>
        {(p) => <input {...p} defaultValue={st ? (st.groupsClaim ?? '') : 'groups'} />}
      </Field>
      <Field label="Manager claim" name="managerClaim" errors={errors} hint="Optional: a claim holding the line manager's username.">
        {(p) => <input {...p} defaultValue={st?.managerClaim ?? ''} />}
      </Field>
      <Field label="Scopes" name="scopes" errors={errors}>
        {(p) => <input {...p} defaultValue={st?.scopes ?? ''} placeholder="openid profile email" />}
      </Field>
      <Field label="CA file on the server" name="caFile" errors={errors} hint="Optional: PEM file for a provider with a private CA.">
        {(p) => <input {...p} defaultValue={st?.caFile ?? ''} />}
      </Field>
      <div className="toggle">
        <input id="sso-create" name="createUsers" type="checkbox" defaultChecked={st?.createUsers ?? false} />
        <label htmlFor="sso-create">Create users on their first login</label>
      </div>
      <div className="toggle">
        <input id="sso-groups" name="syncGroups" type="checkbox" defaultChecked={st?.syncGroups ?? false} />
        <label htmlFor="sso-groups">Group memberships from the groups claim</label>
      </div>
    </>
  );
}

export function SsoSettings() {
  const { data, reload } = useLoad(
    () => get<SsoView>('/sso/config').catch((e: ApiError) => (e.status === 404 ? null : Promise.reject(e))),
    [],
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState('');
  const st = data?.settings;
  const fail = (err: ApiError) => setErrors({ [err.field ?? '_']: err.message });
  return (
    <section aria-labelledby="sso-h">
      <h2 id="sso-h">Single sign-on</h2>
      <p>
        {data ? (data.enabled ? `On: "Sign in with ${st!.name}".` : 'Off (the settings are kept).') : 'Not configured.'} Register this
        redirect URI at the provider: <code className="wrap">{data?.redirectUri ?? `${location.origin}/api/v1/sso/callback`}</code>
      </p>
      <form
        key={data ? 'set' : 'new'}
        onSubmit={(e) => {
          e.preventDefault();
          const body = bodyOf(new FormData(e.currentTarget));
          setErrors({});
          setNote('');
          put('/sso/config', body).then(() => (setNote('Saved; single sign-on is on.'), reload()), fail);
        }}
      >
        <FormError errors={errors} />
        <Fields st={st} secretSet={!!data?.clientSecretSet} errors={errors} />
        <button type="submit">Save single sign-on</button>{' '}
        {data && (
          <>
            <button
              type="button"
              onClick={() => post<{ issuer: string }>('/sso/config/test').then((r) => setNote(`Test passed: ${r.issuer} answers.`), fail)}
            >
              Test
            </button>{' '}
            {data.enabled && (
              <button type="button" onClick={() => del('/sso/config').then(() => (setNote('Single sign-on is off.'), reload()), fail)}>
                Turn off
              </button>
            )}
          </>
        )}{' '}
        {note && <span role="status">{note}</span>}
      </form>
    </section>
  );
}

/** The leaver, on a user's edit panel: ends every console session and API token of the user at once. */
export function SignOutEverywhere({ username }: { username: string }) {
  const [msg, setMsg] = useState('');
  return (
    <>
      <button
        type="button"
        onClick={() => {
          if (!window.confirm(`End every console session and revoke every API token of ${username}?`)) return;
          post<{ sessions: number; tokens: number }>(`/users/${encodeURIComponent(username)}/sign-out`).then(
            (r) => setMsg(`Signed out: ${r.sessions} console session(s) ended, ${r.tokens} API token(s) revoked.`),
            (e: ApiError) => setMsg(e.message),
          );
        }}
      >
        Sign out everywhere
      </button>{' '}
      {msg && <span role="status">{msg}</span>}
    </>
  );
}
