// My passkeys: enrol one (the browser asks the authenticator), see when each was created and last used,
// remove one. Admins also see who has a passkey, and can remove a user's (a lost device).
import { useState } from 'react';
import { del, get } from '../api';
import { enrolPasskey, passkeysSupported } from '../passkey';
import { Field, FormError, Table, Time, useForm, useLoad } from '../ui';

interface Passkey {
  id: number;
  name: string;
  createdAt: string | null;
  lastUsedAt: string | null;
}

function Holders() {
  const { data, reload } = useLoad(() => get<{ items: { username: string; passkeys: number }[] }>('/passkeys/holders'));
  return (
    <Table
      label="Users with a passkey"
      ids={(data?.items ?? []).map((h) => h.username)}
      head={['User', 'Passkeys', 'Action']}
      rows={(data?.items ?? []).map((h) => [
        h.username,
        String(h.passkeys),
        <button
          type="button"
          className="small danger"
          aria-label={`Remove all passkeys of ${h.username}`}
          onClick={() => {
            if (confirm(`Remove every passkey of ${h.username}?`))
              void del(`/users/${encodeURIComponent(h.username)}/passkeys`).then(reload);
          }}
        >
          Remove all
        </button>,
      ])}
    />
  );
}

export function PasskeysPage({ admin }: { admin: boolean }) {
  const { data, reload } = useLoad(() => get<{ items: Passkey[]; decisionsNeedPasskey: boolean }>('/me/passkeys'));
  const f = useForm();
  const [name, setName] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const supported = passkeysSupported();
  return (
    <>
      {data?.decisionsNeedPasskey && (
        <p className="note" role="note">
          Every decision (approve, reject, revoke, escalate) asks for your passkey: approval.decision.requires.passkey is on.
        </p>
      )}
      {!supported && <p className="error">This browser cannot use passkeys.</p>}
      <form
        className="card"
        aria-label="Add a passkey"
        onSubmit={(e) => {
          e.preventDefault();
          void f.run(async () => {
            await enrolPasskey(name.trim());
            setDone(name.trim());
            setName('');
            reload();
          });
        }}
      >
        <Field label="Passkey name (which device or key)" name="name" errors={f.errors}>
          {(p) => <input {...p} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} required />}
        </Field>
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy || !supported}>
            Add a passkey
          </button>
        </div>
      </form>
      {done && (
        <p className="ok" role="status">
          Passkey “{done}” added: it now counts as your second factor.
        </p>
      )}
      <Table
        label="My passkeys"
        ids={(data?.items ?? []).map((p) => p.id)}
        head={['Name', 'Created', 'Last used', 'Action']}
        rows={(data?.items ?? []).map((p) => [
          p.name,
          <Time at={p.createdAt} />,
          <Time at={p.lastUsedAt} />,
          <button
            type="button"
            className="small danger"
            aria-label={`Remove passkey ${p.name}`}
            onClick={() => void del(`/me/passkeys/${p.id}`).then(reload)}
          >
            Remove
          </button>,
        ])}
      />
      {admin && (
        <section aria-label="Who has a passkey">
          <h2>Who has a passkey</h2>
          <Holders />
        </section>
      )}
    </>
  );
}
