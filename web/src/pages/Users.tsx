// Users: list, add, edit (display name, email, manager, admin, disabled, password).
import { useState } from 'react';
import { get, patch, post } from '../api';
import { Field, FormError, Panel, Table, Toggle, useForm, useLoad } from '../ui';
import type { User } from '../types';
import { SignOutEverywhere } from './Sso';

function UserForm({ user, onDone }: { user: User | null; onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState({
    username: user?.username ?? '',
    displayName: user?.displayName ?? '',
    email: user?.email ?? '',
    manager: user?.manager ?? '',
    password: '',
    admin: user?.admin ?? false,
    disabled: user?.disabled ?? false,
    sshKey: '',
  });
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const submit = () =>
    f.run(async () => {
      const common = { displayName: v.displayName, email: v.email || null, manager: v.manager || null, admin: v.admin };
      if (user)
        await patch(`/users/${encodeURIComponent(user.username)}`, {
          ...common,
          disabled: v.disabled,
          ...(v.password ? { password: v.password } : {}),
          ...(v.sshKey ? { addSshKeys: [v.sshKey] } : {}),
        });
      else
        await post('/users', {
          username: v.username,
          ...common,
          ...(v.password ? { password: v.password } : {}),
          ...(v.sshKey ? { sshKeys: [v.sshKey] } : {}),
        });
      onDone();
    });
  return (
    <Panel title={user ? `Edit user ${user.username}` : 'Add user'} onClose={onDone}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {!user && (
          <Field label="Username" name="username" errors={f.errors} hint="lower-case letters, digits, . _ -">
            {(p) => <input {...p} value={v.username} onChange={set('username')} />}
          </Field>
        )}
        <Field label="Display name" name="displayName" errors={f.errors}>
          {(p) => <input {...p} value={v.displayName} onChange={set('displayName')} />}
        </Field>
        <Field label="Email" name="email" errors={f.errors}>
          {(p) => <input {...p} type="text" inputMode="email" value={v.email} onChange={set('email')} />}
        </Field>
        <Field label="Line manager (username)" name="manager" errors={f.errors}>
          {(p) => <input {...p} value={v.manager} onChange={set('manager')} />}
        </Field>
        <Field
          label={user ? 'New password (leave empty to keep)' : 'Password'}
          name="password"
          errors={f.errors}
          hint="at least 8 characters"
        >
          {(p) => <input {...p} type="password" autoComplete="new-password" value={v.password} onChange={set('password')} />}
        </Field>
        <Field label="Add an SSH public key" name={user ? 'addSshKeys' : 'sshKeys'} errors={f.errors}>
          {(p) => <textarea {...p} rows={2} value={v.sshKey} onChange={set('sshKey')} />}
        </Field>
        <Toggle label="Administrator" checked={v.admin} onChange={(x) => setV({ ...v, admin: x })} />
        {user && <Toggle label="Disabled" checked={v.disabled} onChange={(x) => setV({ ...v, disabled: x })} />}
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy}>
            Save
          </button>
          {user && <SignOutEverywhere username={user.username} />}
        </div>
      </form>
    </Panel>
  );
}

export function UsersPage() {
  const { data, error, reload } = useLoad(() => get<{ items: User[] }>('/users'));
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  return (
    <>
      <div className="actions">
        <button type="button" onClick={() => setEditing('new')}>
          Add user
        </button>
      </div>
      {editing && (
        <UserForm
          user={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      {error && <p className="error">{error}</p>}
      <Table
        label="Users"
        head={['Username', 'Name', 'Email', 'Manager', 'Groups', 'Role', 'Action']}
        rows={(data?.items ?? []).map((u) => [
          u.username,
          u.displayName,
          u.email ?? '—',
          u.manager ?? '—',
          u.groups.join(', ') || '—',
          `${u.admin ? 'admin' : 'user'}${u.disabled ? ' (disabled)' : ''}`,
          <button type="button" className="small" onClick={() => setEditing(u)} aria-label={`Edit user ${u.username}`}>
            Edit
          </button>,
        ])}
      />
    </>
  );
}
