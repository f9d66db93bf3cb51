// Mail settings (SMTP; the password is write-only) and the outbox's state: failures are visible here.
// GATEHOUSE_SMTP_URL wins over these settings; the form says which is in use, as the start-up log does.
import { useState } from 'react';
import { ApiError, get, put } from '../api';
import { Field, FormError, useLoad } from '../ui';
import type { Static } from '@sinclair/typebox';
import type { MailSettingsView } from '../../../src/api/routes/mail-settings/schema';

type MailView = Static<typeof MailSettingsView>;

/** Which settings send mail, in the words of the start-up log. */
function sourceText(src: MailView['source']): string {
  if (src.transport === 'environment')
    return `In use: GATEHOUSE_SMTP_URL (${src.server}), set in the server's environment. It wins over the settings below, which are kept but not used while it is set.`;
  if (src.transport === 'console')
    return `In use: the settings below (${src.server}), read when the server starts. GATEHOUSE_SMTP_URL, if set in the environment, would win over them.`;
  return 'Mail is off: nothing is sent (mail is queued). Enter an SMTP host below, or set GATEHOUSE_SMTP_URL in the environment, which wins over these settings.';
}

export function MailSettings() {
  const { data, reload } = useLoad(() => get<MailView>('/mail-settings'), []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  if (!data) return null;
  const st = data.settings;
  const o = data.outbox;
  return (
    <section aria-labelledby="mail-h">
      <h2 id="mail-h">Mail</h2>
      <p>
        Outbox: {o.queued + o.sending} waiting{o.oldestUnsentSeconds ? ` (oldest ${Math.round(o.oldestUnsentSeconds)} s)` : ''}, {o.sent}{' '}
        sent, {o.failed} failed.
        {o.lastError && <span className="error"> Last error: {o.lastError}</span>}
      </p>
      <p className={data.source.transport === 'off' ? 'warnings' : 'hint'} role="status" aria-label="Mail settings in use">
        {sourceText(data.source)}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const v = (k: string) => String(f.get(k) ?? '').trim();
          const body: Record<string, unknown> = {
            host: v('host') || undefined,
            port: v('port') ? Number(v('port')) : undefined,
            security: v('security') || undefined,
            user: v('user'),
            from: v('from'),
          };
          if (v('password')) body.password = v('password');
          setErrors({});
          put('/mail-settings', body).then(
            () => (setSaved(true), reload()),
            (err: ApiError) => setErrors({ [err.field ?? 'form']: err.message }),
          );
        }}
      >
        <FormError errors={errors} />
        <Field label="SMTP host" name="host" errors={errors}>
          {(p) => <input {...p} defaultValue={st.host ?? ''} />}
        </Field>
        <Field label="Port" name="port" errors={errors}>
          {(p) => <input {...p} type="number" min={1} max={65535} defaultValue={st.port ?? ''} />}
        </Field>
        <Field label="Security" name="security" errors={errors}>
          {(p) => (
            <select {...p} defaultValue={st.security ?? 'starttls'}>
              <option value="starttls">STARTTLS</option>
              <option value="tls">TLS (smtps)</option>
              <option value="none">none</option>
            </select>
          )}
        </Field>
        <Field label="Login" name="user" errors={errors}>
          {(p) => <input {...p} defaultValue={st.user ?? ''} autoComplete="off" />}
        </Field>
        <Field
          label="Password"
          name="password"
          errors={errors}
          hint={st.hasPassword ? 'A password is stored (never shown). Leave empty to keep it.' : 'Stored encrypted in the vault.'}
        >
          {(p) => <input {...p} type="password" autoComplete="new-password" />}
        </Field>
        <Field label="From" name="from" errors={errors}>
          {(p) => <input {...p} defaultValue={st.from ?? ''} />}
        </Field>
        <button type="submit">Save mail settings</button>{' '}
        {saved && (
          <span role="status">
            Saved; they apply at the next start{data.environmentOverrides ? ', and only once GATEHOUSE_SMTP_URL is unset' : ''}.
          </span>
        )}
      </form>
    </section>
  );
}
