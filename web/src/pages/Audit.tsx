// Audit log: filter by action, actor, target, channel and time; export what the filter selects as CSV or JSON.
// The applied filter lives in the URL, so a filtered view can be shared.
import { useEffect, useState } from 'react';
import { get, qs } from '../api';
import { Table, Time, useLoad } from '../ui';
import type { AuditRecord, List } from '../types';
import { useFilter } from '../url';

const NONE = { action: '', actor: '', targetType: '', targetId: '', channel: '', from: '', to: '' };

type Filter = typeof NONE;

function AuditFilterForm(props: { f: Filter; setF: (f: Filter) => void; filter: Filter; onSubmit: () => void }) {
  const { f, setF, filter, onSubmit } = props;
  const field = (k: keyof typeof f, label: string, type = 'text') => (
    <div className="field">
      <label htmlFor={`audit-${k}`}>{label}</label>
      <input id={`audit-${k}`} type={type} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} />
    </div>
  );
  return (
    <form
      className="filters"
      aria-label="Audit filter"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {field('action', 'Action (prefix)')}
      {field('actor', 'Actor')}
      {field('targetType', 'Target type')}
      {field('targetId', 'Target id')}
      {field('channel', 'Channel')}
      {field('from', 'From', 'datetime-local')}
      {field('to', 'To', 'datetime-local')}
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

const auditRow = (r: AuditRecord) => [
  r.id,
  <Time at={r.at} />,
  r.actor,
  r.channel,
  r.action,
  r.targetType ? `${r.targetType} ${r.targetId ?? ''}` : '—',
  <code className="wrap">{JSON.stringify(r.details)}</code>,
];

export function AuditPage() {
  const [applied, apply] = useFilter(NONE);
  const key = JSON.stringify(applied);
  const [f, setF] = useState(applied);
  const [more, setMore] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
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
