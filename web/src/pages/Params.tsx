// System Parameters: every dotted parameter with its meaning, default and validation.
import { useState } from 'react';
import { get, put } from '../api';
import { Table, useLoad } from '../ui';
import { MailSettings } from './Mail';
import { SsoSettings } from './Sso';
import type { Param } from '../types';

function ParamEditor({ p, onSaved }: { p: Param; onSaved: () => void }) {
  const [value, setValue] = useState(p.value);
  const [err, setErr] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const id = `param-${p.name.replace(/\./g, '-')}`;
  return (
    <form
      className="inline"
      onSubmit={(e) => {
        e.preventDefault();
        setErr(null);
        put(`/params/${encodeURIComponent(p.name)}`, { value }).then(
          () => (setSaved(true), onSaved()),
          (e: Error) => (setErr(e.message), setSaved(false)),
        );
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Value of {p.name}
      </label>
      {p.kind === 'boolean' ? (
        <select
          id={id}
          value={value}
          onChange={(e) => (setValue(e.target.value), setSaved(false))}
          aria-invalid={!!err}
          aria-describedby={err ? `${id}-err` : undefined}
        >
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : (
        <input
          id={id}
          value={value}
          inputMode={p.kind === 'integer' ? 'numeric' : undefined}
          onChange={(e) => (setValue(e.target.value), setSaved(false))}
          aria-invalid={!!err}
          aria-describedby={err ? `${id}-err` : undefined}
        />
      )}
      <button type="submit" className="small" aria-label={`Save ${p.name}`}>
        Save
      </button>
      {saved && (
        <span className="ok" role="status">
          saved
        </span>
      )}
      {err && (
        <small id={`${id}-err`} className="error" role="alert">
          {err}
        </small>
      )}
    </form>
  );
}

export function ParamsPage() {
  const { data, error, reload } = useLoad(() => get<{ items: Param[] }>('/params'));
  return (
    <>
      {error && <p className="error">{error}</p>}
      <Table
        label="System parameters"
        head={['Parameter', 'Meaning', 'Default', 'Allowed', 'Value']}
        rows={(data?.items ?? []).map((p) => [
          <code>{p.name}</code>,
          p.meaning,
          <code>{p.default}</code>,
          p.choices
            ? `one of ${p.choices.join(', ')}`
            : p.kind === 'integer'
              ? `whole number ${p.min}–${p.max}`
              : p.kind === 'boolean'
                ? 'true or false'
                : 'text, 1–200 characters',
          <ParamEditor key={`${p.name}:${p.value}`} p={p} onSaved={reload} />,
        ])}
      />
      <MailSettings />
      <SsoSettings />
    </>
  );
}
