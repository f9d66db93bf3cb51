// One device: settings, its pinned SSH host key, and its accounts with write-only secrets.
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { get, patch, put } from '../api';
import { useForm } from '../errors';
import { Warnings } from '../warnings';
import { Picker } from '../picker';
import { Field, FormError, Table, Toggle, names, useLoad } from '../ui';
import type { Device } from '../types';

function AccountForm({ device, onDone }: { device: string; onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState({ name: '', kind: 'password', secret: '', isDefault: false });
  return (
    <form
      className="card"
      aria-label="Add or replace an account"
      onSubmit={(e) => {
        e.preventDefault();
        void f
          .run(() =>
            put(`/devices/${encodeURIComponent(device)}/accounts/${encodeURIComponent(v.name)}`, {
              [v.kind === 'password' ? 'password' : 'privateKey']: v.secret,
              default: v.isDefault,
            }),
          )
          .then((ok) => {
            if (ok) {
              setV({ name: '', kind: 'password', secret: '', isDefault: false });
              onDone();
            }
          });
      }}
    >
      <h3>Add or replace an account</h3>
      <Field label="Account name" name="name" errors={f.errors}>
        {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
      </Field>
      <Field label="Secret kind" name="kind" errors={f.errors}>
        {(p) => (
          <select {...p} value={v.kind} onChange={(e) => setV({ ...v, kind: e.target.value })}>
            <option value="password">Password</option>
            <option value="key">Private key</option>
          </select>
        )}
      </Field>
      <Field
        label={v.kind === 'password' ? 'Password' : 'Private key (OpenSSH format)'}
        name={v.kind === 'password' ? 'password' : 'privateKey'}
        errors={{ ...f.errors, ...(f.errors.secret ? { [v.kind === 'password' ? 'password' : 'privateKey']: f.errors.secret } : {}) }}
        hint="Write-only: sealed in the vault and never shown again."
      >
        {(p) =>
          v.kind === 'password' ? (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={v.secret}
              onChange={(e) => setV({ ...v, secret: e.target.value })}
            />
          ) : (
            <textarea {...p} rows={4} value={v.secret} onChange={(e) => setV({ ...v, secret: e.target.value })} />
          )
        }
      </Field>
      <Toggle label="Default account" checked={v.isDefault} onChange={(x) => setV({ ...v, isDefault: x })} />
      <FormError errors={f.errors.secret ? {} : f.errors} />
      <div className="actions">
        <button type="submit" disabled={f.busy}>
          Save account
        </button>
      </div>
    </form>
  );
}

interface Edit {
  host: string;
  protocols: string;
  group: string;
  enabled: boolean;
  hostKey: string;
}

function DeviceFacts({ d }: { d: Device }) {
  return (
    <dl className="facts">
      <dt>Host</dt>
      <dd>{d.host}</dd>
      <dt>Protocols</dt>
      <dd>{d.protocols.map((p) => `${p} (port ${d.ports[p as keyof Device['ports']]})`).join(', ')}</dd>
      <dt>Device group</dt>
      <dd>{d.group ?? '—'}</dd>
      <dt>Enabled</dt>
      <dd>{d.enabled ? 'yes' : 'no'}</dd>
      <dt>Pinned SSH host key</dt>
      <dd>
        {d.hostKey ? <code className="wrap">{d.hostKey}</code> : <span className="muted">not pinned yet (pinned on first connection)</span>}
      </dd>
    </dl>
  );
}

function DeviceEditForm(props: {
  name: string;
  d: Device;
  f: ReturnType<typeof useForm>;
  edit: Edit;
  setEdit: (e: Edit | null) => void;
  onSaved: () => void;
}) {
  const { name, d, f, edit, setEdit, onSaved } = props;
  return (
    <form
      className="card"
      aria-label="Edit device"
      onSubmit={(e) => {
        e.preventDefault();
        void f
          .run(() =>
            patch(`/devices/${encodeURIComponent(name)}`, {
              host: edit.host,
              protocols: names(edit.protocols),
              group: edit.group || null,
              enabled: edit.enabled,
              ...(edit.hostKey !== (d.hostKey ?? '') ? { hostKey: edit.hostKey || null } : {}),
            }),
          )
          .then((ok) => ok && (setEdit(null), onSaved()));
      }}
    >
      <Field label="Host" name="host" errors={f.errors}>
        {(p) => <input {...p} value={edit.host} onChange={(e) => setEdit({ ...edit, host: e.target.value })} />}
      </Field>
      <Field label="Protocols" name="protocols" errors={f.errors}>
        {(p) => <input {...p} value={edit.protocols} onChange={(e) => setEdit({ ...edit, protocols: e.target.value })} />}
      </Field>
      <Field label="Device group" name="group" errors={f.errors} hint="Empty: in no group (no access rule reaches the device).">
        {(p) => (
          <Picker
            kind="deviceGroup"
            id={p.id}
            label="Device group"
            value={edit.group}
            onChange={(x) => setEdit({ ...edit, group: x })}
            aria-describedby={p['aria-describedby']}
          />
        )}
      </Field>
      <Field label="Pinned SSH host key (empty clears it: the next connection pins again)" name="hostKey" errors={f.errors}>
        {(p) => <textarea {...p} rows={2} value={edit.hostKey} onChange={(e) => setEdit({ ...edit, hostKey: e.target.value })} />}
      </Field>
      <Toggle label="Enabled" checked={edit.enabled} onChange={(x) => setEdit({ ...edit, enabled: x })} />
      <FormError errors={f.errors} />
      <div className="actions">
        <button type="button" className="secondary" onClick={() => setEdit(null)}>
          Cancel
        </button>
        <button type="submit" disabled={f.busy}>
          Save
        </button>
      </div>
    </form>
  );
}

const editOf = (d: Device): Edit => ({
  host: d.host,
  protocols: d.protocols.join(', '),
  group: d.group ?? '',
  enabled: d.enabled,
  hostKey: d.hostKey ?? '',
});

export function DevicePage({ name }: { name: string }) {
  const { data: d, error, reload } = useLoad(() => get<Device>(`/devices/${encodeURIComponent(name)}`), [name]);
  const f = useForm();
  // ?edit=1 (the Inventory's Action > Edit) opens the form; closing it drops the parameter.
  const [params, setParams] = useSearchParams();
  const [edit, setEdit0] = useState<Edit | null>(null);
  const setEdit = (e: Edit | null) => {
    setEdit0(e);
    if (!e && params.has('edit')) setParams({}, { replace: true });
  };
  const editing = edit ?? (d && params.has('edit') ? editOf(d) : null);
  if (error) return <p className="error">{error}</p>;
  if (!d) return <p>Loading…</p>;
  return (
    <>
      <p>
        <Link to="/devices/inventory">← Inventory</Link>
      </p>
      <Warnings items={d.warnings} label={`Warnings for device ${d.name}`} />
      <DeviceFacts d={d} />
      {!editing ? (
        <div className="actions">
          <button type="button" onClick={() => setEdit(editOf(d))}>
            Edit device
          </button>
        </div>
      ) : (
        <DeviceEditForm name={name} d={d} f={f} edit={editing} setEdit={setEdit} onSaved={reload} />
      )}
      <h2>Accounts</h2>
      <Table
        label="Accounts"
        head={['Account', 'Secret', 'Default']}
        rows={d.accounts.map((a) => [a.name, `${a.secretKind} (write-only)`, a.default ? 'yes' : '—'])}
      />
      <AccountForm device={name} onDone={reload} />
    </>
  );
}
