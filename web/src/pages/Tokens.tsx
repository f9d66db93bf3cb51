// API tokens: each user creates, lists and revokes their own. A new token is shown once.
import { useState } from 'react';
import { del, get, post } from '../api';
import { Field, FormError, Table, Time, useForm, useLoad } from '../ui';
import type { Token } from '../types';

export function TokensPage() {
  const { data, reload } = useLoad(() => get<{ items: Token[] }>('/tokens'));
  const f = useForm();
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [fresh, setFresh] = useState<string | null>(null);
  return (
    <>
      <form
        className="card"
        aria-label="Create an API token"
        onSubmit={(e) => {
          e.preventDefault();
          void f.run(async () => {
            const r = await post<{ token: string }>('/tokens', { name, ...(days ? { expiresInDays: Number(days) } : {}) });
            setFresh(r.token);
            setName('');
            reload();
          });
        }}
      >
        <Field label="Token name" name="name" errors={f.errors}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Expires after (days, empty: never)" name="expiresInDays" errors={f.errors}>
          {(p) => <input {...p} inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />}
        </Field>
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy}>
            Create token
          </button>
        </div>
      </form>
      {fresh && (
        <p className="ok" role="status">
          Your new token (shown once; send it as <code>Authorization: Bearer …</code>): <code className="wrap">{fresh}</code>
        </p>
      )}
      <Table
        label="My API tokens"
        ids={(data?.items ?? []).map((t) => t.id)}
        head={['Name', 'Starts with', 'Created', 'Expires', 'Last used', 'State', 'Action']}
        rows={(data?.items ?? []).map((t) => [
          t.name,
          <code>{t.prefix}…</code>,
          <Time at={t.createdAt} />,
          <Time at={t.expiresAt} />,
          <Time at={t.lastUsedAt} />,
          t.revokedAt ? 'revoked' : 'active',
          t.revokedAt ? (
            '—'
          ) : (
            <button
              type="button"
              className="small danger"
              aria-label={`Revoke token ${t.name}`}
              onClick={() => void del(`/tokens/${t.id}`).then(reload)}
            >
              Revoke
            </button>
          ),
        ])}
      />
    </>
  );
}
