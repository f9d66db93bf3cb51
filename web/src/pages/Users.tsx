// Users: list, add, edit (display name, email, line manager, groups, admin, disabled, password). The
// form is part of the URL (?edit=<username> or ?edit=new), so it closes when the admin goes elsewhere.
import { useState } from 'react';
import { get, patch, post } from '../api';
import { Picker } from '../picker';
import { useFilter } from '../url';
import { ActionMenu, Field, FormError, Panel, Table, Toggle, useForm, useLoad } from '../ui';
import type { User } from '../types';
import { SignOutEverywhere } from './Sso';

const FIELDS = ['username', 'displayName', 'email', 'manager', 'groups', 'password', 'sshKeys', 'addSshKeys'] as const;

type UserValues = { displayName: string; email: string; manager: string; groups: string[]; admin: boolean; disabled: boolean } & {
  username: string;
  password: string;
  sshKey: string;
};

function saveUser(user: User | null, v: UserValues) {
  const common = { displayName: v.displayName, email: v.email || null, manager: v.manager || null, admin: v.admin, groups: v.groups };
  if (user)
    return patch(`/users/${encodeURIComponent(user.username)}`, {
      ...common,
      disabled: v.disabled,
      ...(v.password ? { password: v.password } : {}),
      ...(v.sshKey ? { addSshKeys: [v.sshKey] } : {}),
    });
  return post('/users', {
    username: v.username,
    ...common,
    ...(v.password ? { password: v.password } : {}),
    ...(v.sshKey ? { sshKeys: [v.sshKey] } : {}),
  });
}

function UserForm({ user, onDone }: { user: User | null; onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState<UserValues>({
    username: user?.username ?? '',
    displayName: user?.displayName ?? '',
    email: user?.email ?? '',
    manager: user?.manager ?? '',
    groups: user?.groups ?? [],
    password: '',
    admin: user?.admin ?? false,
    disabled: user?.disabled ?? false,
    sshKey: '',
  });
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const submit = async () => {
    if (await f.run(() => saveUser(user, v))) onDone();
  };
  return (
    <Panel title={user ? `Edit user ${user.username}` : 'Add user'} onClose={onDone}>
      <form
        noValidate
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
        <Field
          label="Line manager"
          name="manager"
          errors={f.errors}
          hint="Approves this user's requests when a workflow asks the line manager."
        >
          {(p) => <Picker kind="user" label="Line manager" {...p} value={v.manager} onChange={(x) => setV({ ...v, manager: x })} />}
        </Field>
        <Field label="User groups" name="groups" errors={f.errors}>
          {(p) => <Picker kind="group" multiple label="User groups" {...p} value={v.groups} onChange={(x) => setV({ ...v, groups: x })} />}
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
        <FormError errors={f.errors} shown={FIELDS} />
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
  const [{ edit }, setFilter] = useFilter({ edit: '' });
  const setEdit = (name: string) => setFilter({ edit: name });
  const editing = edit === 'new' ? null : (data?.items.find((u) => u.username === edit) ?? undefined);
  return (
    <>
      <div className="actions">
        <button type="button" onClick={() => setEdit('new')}>
          Add user
        </button>
      </div>
      {edit && editing !== undefined && (
        <UserForm
          key={edit}
          user={editing}
          onDone={() => {
            setEdit('');
            reload();
          }}
        />
      )}
      {error && <p className="error">{error}</p>}
      <Table
        label="Users"
        head={['Username', 'Name', 'Email', 'Manager', 'Groups', 'Role', 'Action']}
        ids={(data?.items ?? []).map((u) => u.username)}
        rows={(data?.items ?? []).map((u) => [
          u.username,
          u.displayName,
          u.email ?? '—',
          u.manager ?? '—',
          u.groups.join(', ') || '—',
          `${u.admin ? 'admin' : 'user'}${u.disabled ? ' (disabled)' : ''}`,
          <ActionMenu label={`user ${u.username}`} items={[{ text: 'Edit', onSelect: () => setEdit(u.username) }]} />,
        ])}
      />
    </>
  );
}
