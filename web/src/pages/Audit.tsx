// Audit log: filter by action, actor, device, target, channel and time; export what the filter selects as CSV
// or JSON. The filters offer the values the log holds (GET /audit/values); details read as label: value, with
// people named as everywhere and times in the reader's time zone. The applied filter lives in the URL.
import { useEffect, useState } from 'react';
import { get, qs } from '../api';
import { Table, Time, useLoad } from '../ui';
import type { AuditRecord, List } from '../types';
import { useFilter } from '../url';

const NONE = { action: '', actor: '', targetType: '', targetId: '', channel: '', from: '', to: '' };

type Filter = typeof NONE;
type Choice = { value: string; label: string };
/** GET /audit/values: what each filter can offer. */
export interface AuditValues {
  actions: string[];
  actors: Choice[];
  channels: string[];
  targetTypes: string[];
  devices: Choice[];
}

/** The action filter matches a prefix: offer every action and the families they belong to ("approval."). */
function actionChoices(actions: string[]): string[] {
  const families = new Set(actions.filter((a) => a.includes('.')).map((a) => a.slice(0, a.indexOf('.') + 1)));
  return [...families, ...actions].sort();
}

function Select(props: { id: keyof Filter | 'device'; label: string; value: string; choices: Choice[]; onChange: (v: string) => void }) {
  const { id, label, value, choices, onChange } = props;
  // A value from a shared link that the log no longer offers still shows (and can be cleared).
  const all = value && !choices.some((c) => c.value === value) ? [...choices, { value, label: value }] : choices;
  return (
    <div className="field">
      <label htmlFor={`audit-${id}`}>{label}</label>
      <select id={`audit-${id}`} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {all.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}

const plainChoices = (xs: string[] | undefined): Choice[] => (xs ?? []).map((x) => ({ value: x, label: x }));

function AuditFilterForm(props: {
  f: Filter;
  setF: (f: Filter) => void;
  filter: Filter;
  values: AuditValues | null;
  onSubmit: () => void;
}) {
  const { f, setF, filter, values, onSubmit } = props;
  const text = (k: keyof Filter, label: string, type = 'text', list?: string) => (
    <div className="field">
      <label htmlFor={`audit-${k}`}>{label}</label>
      <input id={`audit-${k}`} type={type} list={list} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} />
    </div>
  );
  const device = f.targetType === 'device' ? f.targetId : '';
  return (
    <form
      className="filters"
      aria-label="Audit filter"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {text('action', 'Action (or its start)', 'text', 'audit-actions')}
      <datalist id="audit-actions">
        {actionChoices(values?.actions ?? []).map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <Select id="actor" label="Actor" value={f.actor} choices={values?.actors ?? []} onChange={(v) => setF({ ...f, actor: v })} />
      <Select
        id="device"
        label="Device"
        value={device}
        choices={values?.devices ?? []}
        onChange={(v) => setF({ ...f, targetType: v ? 'device' : '', targetId: v })}
      />
      <Select
        id="targetType"
        label="Target type"
        value={f.targetType}
        choices={plainChoices(values?.targetTypes)}
        onChange={(v) => setF({ ...f, targetType: v, targetId: '' })}
      />
      {text('targetId', 'Target id')}
      <Select
        id="channel"
        label="Channel"
        value={f.channel}
        choices={plainChoices(values?.channels)}
        onChange={(v) => setF({ ...f, channel: v })}
      />
      {text('from', 'From', 'datetime-local')}
      {text('to', 'To', 'datetime-local')}
      <div className="actions">
        <button type="submit">Filter</button>
        <a className="button secondary" href={`/api/v1/audit/export${qs({ ...filter, format: 'csv' })}`} download>
          Export CSV
        </a>
        <a className="button secondary" href={`/api/v1/audit/export${qs({ ...filter, format: 'json' })}`} download>
          Export JSON
        </a>
      </div>
    </form>
  );
}

/** The details as label: value pairs; a record without details says so. */
function Fields({ r }: { r: AuditRecord }) {
  if (!r.fields.length) return <span className="muted">—</span>;
  return (
    <dl className="audit-fields">
      {r.fields.map((f, i) => (
        <div key={i}>
          <dt>{f.label}</dt>
          <dd>{f.kind === 'time' ? <Time at={f.value} /> : f.value}</dd>
        </div>
      ))}
    </dl>
  );
}

const auditRow = (r: AuditRecord) => [
  r.id,
  <Time at={r.at} />,
  r.actorName,
  r.channel,
  r.action,
  r.targetType ? `${r.targetType} ${r.targetId ?? ''}` : '—',
  <Fields r={r} />,
];

export function AuditPage() {
  const [applied, apply] = useFilter(NONE);
  const key = JSON.stringify(applied);
  const [f, setF] = useState(applied);
  const [more, setMore] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const values = useLoad(() => get<AuditValues>('/audit/values'));
  useEffect(() => {
    setF(applied);
    setMore([]);
    setNext(undefined);
  }, [key]); // a new filter, from the form or the back button
  const filter = {
    ...applied,
    from: applied.from ? new Date(applied.from).toISOString() : '',
    to: applied.to ? new Date(applied.to).toISOString() : '',
  };
  const { data, error, reload } = useLoad(() => get<List<AuditRecord>>(`/audit${qs({ ...filter, limit: 100 })}`), [key]);
  const items = [...(data?.items ?? []), ...more];
  const nextId = next === undefined ? data?.nextBeforeId : next;
  return (
    <>
      <AuditFilterForm
        f={f}
        setF={setF}
        filter={filter}
        values={values.data}
        onSubmit={() => {
          if (JSON.stringify(f) === key) reload();
          else apply(f);
        }}
      />
      {error && <p className="error">{error}</p>}
      <Table
        label="Audit records"
        ids={items.map((r) => r.id)}
        head={['#', 'When', 'Actor', 'Channel', 'Action', 'Target', 'Details']}
        rows={items.map(auditRow)}
      />
      {nextId && (
        <div className="actions">
          <button
            type="button"
            className="secondary"
            onClick={() =>
              void get<List<AuditRecord>>(`/audit${qs({ ...filter, limit: 100, beforeId: nextId })}`).then((r) => {
                setMore([...more, ...r.items]);
                setNext(r.nextBeforeId);
              })
            }
          >
            More
          </button>
        </div>
      )}
    </>
  );
}
