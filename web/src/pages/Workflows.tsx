// Approval Workflows: user group × device group, ordered levels (authority, quorum, escalation).
import { useState } from 'react';
import { del, get, post } from '../api';
import { Field, FormError, Panel, Table, useForm, useLoad } from '../ui';
import type { Workflow } from '../types';

interface Level {
  kind: string;
  arg: string;
  quorum: string;
  escalate: string;
}
const KINDS: [string, string][] = [
  ['group-manager', "Requester's group manager"],
  ['line-manager', "Requester's line manager"],
  ['group-members', 'Any member of a user group'],
  ['users', 'Named users'],
];

function LevelFieldset(props: {
  l: Level;
  i: number;
  count: number;
  errors: Record<string, string>;
  setLevel: (i: number, patch: Partial<Level>) => void;
  remove: (i: number) => void;
}) {
  const { l, i, count, errors, setLevel, remove } = props;
  return (
    <fieldset className="level">
      <legend>Level {i + 1}</legend>
      <Field label="Authority" name={`levels-${i}-kind`} errors={errors}>
        {(p) => (
          <select {...p} value={l.kind} onChange={(e) => setLevel(i, { kind: e.target.value })}>
            {KINDS.map(([k, t]) => (
              <option key={k} value={k}>
                {t}
              </option>
            ))}
          </select>
        )}
      </Field>
      {(l.kind === 'group-members' || l.kind === 'users') && (
        <Field label={l.kind === 'users' ? 'Usernames (comma-separated)' : 'User group'} name={`levels-${i}-arg`} errors={errors}>
          {(p) => <input {...p} value={l.arg} onChange={(e) => setLevel(i, { arg: e.target.value })} />}
        </Field>
      )}
      <Field label="Quorum (approvals needed)" name={`levels-${i}-quorum`} errors={errors}>
        {(p) => <input {...p} inputMode="numeric" value={l.quorum} onChange={(e) => setLevel(i, { quorum: e.target.value })} />}
      </Field>
      <Field label="Escalate after (minutes, empty: never)" name={`levels-${i}-escalate`} errors={errors}>
        {(p) => <input {...p} inputMode="numeric" value={l.escalate} onChange={(e) => setLevel(i, { escalate: e.target.value })} />}
      </Field>
      {count > 1 && (
        <button type="button" className="secondary small" onClick={() => remove(i)}>
          Remove level {i + 1}
        </button>
      )}
    </fieldset>
  );
}

function WorkflowForm({ onDone }: { onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState({ name: '', userGroup: '', deviceGroup: '' });
  const [levels, setLevels] = useState<Level[]>([{ kind: 'group-manager', arg: '', quorum: '1', escalate: '' }]);
  const setLevel = (i: number, patch: Partial<Level>) => setLevels(levels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  return (
    <Panel title="Add approval workflow" onClose={onDone}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void f
            .run(() =>
              post('/workflows', {
                ...v,
                levels: levels.map((l) => ({
                  authority: l.kind === 'group-members' || l.kind === 'users' ? `${l.kind}:${l.arg.replace(/\s+/g, '')}` : l.kind,
                  quorum: Number(l.quorum) || 1,
                  escalateAfterMinutes: l.escalate ? Number(l.escalate) : null,
                })),
              }),
            )
            .then((ok) => ok && onDone());
        }}
      >
        <Field label="Name" name="name" errors={f.errors}>
          {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
        </Field>
        <Field label="User group" name="userGroup" errors={f.errors}>
          {(p) => <input {...p} value={v.userGroup} onChange={(e) => setV({ ...v, userGroup: e.target.value })} />}
        </Field>
        <Field label="Device group" name="deviceGroup" errors={f.errors}>
          {(p) => <input {...p} value={v.deviceGroup} onChange={(e) => setV({ ...v, deviceGroup: e.target.value })} />}
        </Field>
        {levels.map((l, i) => (
          <LevelFieldset
            key={i}
            l={l}
            i={i}
            count={levels.length}
            errors={f.errors}
            setLevel={setLevel}
            remove={(i) => setLevels(levels.filter((_, j) => j !== i))}
          />
        ))}
        {f.errors.levels && (
          <p className="error" role="alert">
            {f.errors.levels}
          </p>
        )}
        <FormError errors={f.errors} />
        <div className="actions">
          {levels.length < 5 && (
            <button
              type="button"
              className="secondary"
              onClick={() => setLevels([...levels, { kind: 'group-manager', arg: '', quorum: '1', escalate: '' }])}
            >
              Add level
            </button>
          )}
          <button type="submit" disabled={f.busy}>
            Save
          </button>
        </div>
      </form>
    </Panel>
  );
}

export function WorkflowsPage() {
  const { data, error, reload } = useLoad(() => get<{ items: Workflow[] }>('/workflows'));
  const [adding, setAdding] = useState(false);
  return (
    <>
      <p className="muted">A workflow for a user group × device group wins over user-group and device-group managerial approval.</p>
      <div className="actions">
        <button type="button" onClick={() => setAdding(true)}>
          Add workflow
        </button>
      </div>
      {adding && <WorkflowForm onDone={() => (setAdding(false), reload())} />}
      {error && <p className="error">{error}</p>}
      <Table
        label="Approval workflows"
        head={['Workflow', 'User group', 'Device group', 'Levels', 'Action']}
        rows={(data?.items ?? []).map((w) => [
          w.name,
          w.userGroup,
          w.deviceGroup,
          <ol className="compact">
            {w.levels.map((l) => (
              <li key={l.level}>
                {l.authority}, quorum {l.quorum}
                {l.escalateAfterMinutes ? `, escalates after ${l.escalateAfterMinutes} min` : ''}
              </li>
            ))}
          </ol>,
          <button
            type="button"
            className="small danger"
            aria-label={`Remove workflow ${w.name}`}
            onClick={() => confirm(`Remove workflow ${w.name}?`) && void del(`/workflows/${encodeURIComponent(w.name)}`).then(reload)}
          >
            Remove
          </button>,
        ])}
      />
    </>
  );
}
