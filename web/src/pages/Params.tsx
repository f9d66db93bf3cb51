// System Parameters: every dotted parameter with its meaning, default and validation, edited with the
// control its kind calls for (a switch, a list of choices, a number checked before it is sent). Mail
// settings are the page's second tab (?tab=mail).
import { useState } from 'react';
import { get, put } from '../api';
import { Table, Tabs, useLoad } from '../ui';
import { useTab } from '../url';
import { MailSettings } from './Mail';
import { SsoSettings } from './Sso';
import type { Param } from '../types';

/** A number's problem in words, before the server is asked; null when it is fine. */
export function numberProblem(p: Param, value: string): string | null {
  const v = value.trim();
  const range = p.min !== undefined && p.max !== undefined ? ` from ${p.min} to ${p.max}` : '';
  if (!/^-?\d+$/.test(v)) return `Enter a whole number${range}`;
  const n = Number(v);
  if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) return `${n} is out of range: enter a whole number${range}`;
  return null;
}

function ParamControl(props: { p: Param; id: string; value: string; set: (v: string) => void; err: string | null }) {
  const { p, id, value, set, err } = props;
  const aria = { id, 'aria-invalid': !!err, 'aria-describedby': err ? `${id}-err` : undefined };
  if (p.kind === 'boolean')
    return <input {...aria} type="checkbox" role="switch" checked={value === 'true'} onChange={(e) => set(String(e.target.checked))} />;
  if (p.choices)
    return (
      <select {...aria} value={value} onChange={(e) => set(e.target.value)}>
        {p.choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  return (
    <input
      {...aria}
      value={value}
      inputMode={p.kind === 'integer' ? 'numeric' : undefined}
      size={p.kind === 'integer' ? 8 : undefined}
      onChange={(e) => set(e.target.value)}
    />
  );
}

function ParamEditor({ p, onSaved }: { p: Param; onSaved: () => void }) {
  const [value, setValue] = useState(p.value);
  const [err, setErr] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const id = `param-${p.name.replace(/\./g, '-')}`;
  const set = (v: string) => (setValue(v), setSaved(false), setErr(null));
  return (
    <form
      className="inline"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const bad = p.kind === 'integer' ? numberProblem(p, value) : null;
        setErr(bad);
        if (bad) return;
        put(`/params/${encodeURIComponent(p.name)}`, { value }).then(
          () => (setSaved(true), onSaved()),
          (e: Error) => (setErr(e.message), setSaved(false)),
        );
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Value of {p.name}
      </label>
      <ParamControl p={p} id={id} value={value} set={set} err={err} />
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

const allowed = (p: Param) =>
  p.choices
    ? `one of ${p.choices.join(', ')}`
    : p.kind === 'integer'
      ? `whole number ${p.min}–${p.max}`
      : p.kind === 'boolean'
        ? 'on or off'
        : 'text, 1–200 characters';

function ParamsTable() {
  const { data, error, reload } = useLoad(() => get<{ items: Param[] }>('/params'));
  return (
    <>
      {error && <p className="error">{error}</p>}
      <Table
        label="System parameters"
        head={['Parameter', 'Meaning', 'Default', 'Allowed', 'Value']}
        ids={(data?.items ?? []).map((p) => p.name)}
        rows={(data?.items ?? []).map((p) => [
          <code>{p.name}</code>,
          p.meaning,
          <code>{p.default}</code>,
          allowed(p),
          // Keyed by name only: a reload after a save must not remount the editor and drop its "Saved".
          <ParamEditor key={p.name} p={p} onSaved={reload} />,
        ])}
      />
    </>
  );
}

export function ParamsPage() {
  const [tab, setTab] = useTab('tab', ['params', 'mail', 'sso']);
  return (
    <>
      <Tabs
        label="System Parameters"
        value={tab}
        onChange={setTab}
        options={[
          ['params', 'Parameters'],
          ['mail', 'Mail'],
          ['sso', 'Single sign-on'],
        ]}
      />
      {tab === 'params' ? <ParamsTable /> : tab === 'mail' ? <MailSettings /> : <SsoSettings />}
    </>
  );
}
