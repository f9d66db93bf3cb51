// Approval Workflows: user group × device group, ordered levels (authority, quorum, escalation).
// Added and edited in one form; before a save the server checks it, and a level that names nobody
// (or fewer people than its quorum) is shown at that level and needs "Save anyway".
import { useState } from 'react';
import { del, get, post, put } from '../api';
import { unplaced, useForm, type FieldErrors } from '../errors';
import { Warnings } from '../warnings';
import { Picker } from '../picker';
import { ActionMenu, Field, FormError, Panel, Table, useLoad } from '../ui';
import type { Workflow } from '../types';

interface Level {
  kind: string;
  group: string;
  users: string[];
  quorum: string;
  escalate: string;
}
type Head = { name: string; userGroup: string; deviceGroup: string };
interface Warning {
  field: string;
  message: string;
}
const KINDS: [string, string][] = [
  ['group-manager', "Requester's group manager"],
  ['line-manager', "Requester's line manager"],
  ['group-members', 'Any member of a user group'],
  ['users', 'Named users'],
];
const NEW_LEVEL: Level = { kind: 'group-manager', group: '', users: [], quorum: '1', escalate: '' };

/** A stored level ('group-members:dba', 'users:a,b') back into the form's fields. */
function levelOf(l: Workflow['levels'][number]): Level {
  const [kind, arg = ''] = l.authority.split(/:(.*)/s, 2);
  return {
    kind,
    group: kind === 'group-members' ? arg : '',
    users: kind === 'users' ? arg.split(',').filter(Boolean) : [],
    quorum: String(l.quorum),
    escalate: l.escalateAfterMinutes ? String(l.escalateAfterMinutes) : '',
  };
}

const num = (s: string) => (/^\s*\d+\s*$/.test(s) ? Number(s) : s);
const levelBody = (l: Level) => ({
  authority: l.kind === 'group-members' ? `group-members:${l.group}` : l.kind === 'users' ? `users:${l.users.join(',')}` : l.kind,
  quorum: l.quorum.trim() === '' ? undefined : num(l.quorum),
  escalateAfterMinutes: l.escalate.trim() === '' ? null : num(l.escalate),
});

function LevelFieldset(props: {
  l: Level;
  i: number;
  count: number;
  errors: FieldErrors;
  warnings: Warning[];
  setLevel: (i: number, patch: Partial<Level>) => void;
  remove: (i: number) => void;
}) {
  const { l, i, count, errors, setLevel, remove } = props;
  const at = `levels.${i}`;
  return (
    <fieldset className="level" aria-invalid={!!errors[at]}>
      <legend>Level {i + 1}</legend>
      <Field label="Authority" name={`${at}.authority`} errors={errors}>
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
      {l.kind === 'group-members' && (
        <Field label="User group whose members approve" name={`${at}.group`} errors={errors}>
          {(p) => (
            <Picker
              kind="group"
              id={p.id}
              label={`Level ${i + 1} user group`}
              value={l.group}
              onChange={(v) => setLevel(i, { group: v })}
            />
          )}
        </Field>
      )}
      {l.kind === 'users' && (
        <Field label="Users who approve" name={`${at}.users`} errors={errors}>
          {(p) => (
            <Picker
              kind="user"
              multiple
              id={p.id}
              label={`Level ${i + 1} users`}
              value={l.users}
              onChange={(v) => setLevel(i, { users: v })}
            />
          )}
        </Field>
      )}
      <Field label="Quorum (approvals needed)" name={`${at}.quorum`} errors={errors}>
        {(p) => <input {...p} inputMode="numeric" value={l.quorum} onChange={(e) => setLevel(i, { quorum: e.target.value })} />}
      </Field>
      <Field label="Escalate after (minutes, empty: never)" name={`${at}.escalateAfterMinutes`} errors={errors}>
        {(p) => <input {...p} inputMode="numeric" value={l.escalate} onChange={(e) => setLevel(i, { escalate: e.target.value })} />}
      </Field>
      {errors[at] && (
        <p className="error" role="alert">
          {errors[at]}
        </p>
      )}
      <Warnings items={props.warnings.filter((w) => w.field === at).map((w) => w.message)} label={`Level ${i + 1} warning`} />
      {count > 1 && (
        <button type="button" className="secondary small" onClick={() => remove(i)}>
          Remove level {i + 1}
        </button>
      )}
    </fieldset>
  );
}

function WorkflowHead({ v, setV, errors }: { v: Head; setV: (v: Head) => void; errors: FieldErrors }) {
  return (
    <>
      <Field label="Name" name="name" errors={errors}>
        {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
      </Field>
      <Field label="User group" name="userGroup" errors={errors}>
        {(p) => (
          <Picker
            kind="group"
            id={p.id}
            label="User group"
            value={v.userGroup}
            onChange={(x) => setV({ ...v, userGroup: x })}
            {...aria(p)}
          />
        )}
      </Field>
      <Field label="Device group" name="deviceGroup" errors={errors}>
        {(p) => (
          <Picker
            kind="deviceGroup"
            id={p.id}
            label="Device group"
            value={v.deviceGroup}
            onChange={(x) => setV({ ...v, deviceGroup: x })}
            {...aria(p)}
          />
        )}
      </Field>
    </>
  );
}

function useWorkflowForm(editing: Workflow | null) {
  const [v, setV0] = useState<Head>({
    name: editing?.name ?? '',
    userGroup: editing?.userGroup ?? '',
    deviceGroup: editing?.deviceGroup ?? '',
  });
  const [levels, setLevels0] = useState<Level[]>(editing ? editing.levels.map(levelOf) : [{ ...NEW_LEVEL }]);
  // The warnings of the values as they were checked; any change asks the server again.
  const [warnings, setWarnings] = useState<Warning[] | null>(null);
  const setV = (x: Head) => (setV0(x), setWarnings(null));
  const setLevels = (x: Level[]) => (setLevels0(x), setWarnings(null));
  const setLevel = (i: number, patch: Partial<Level>) => setLevels(levels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const body = () => ({ ...v, levels: levels.map(levelBody) });
  return { v, setV, levels, setLevels, setLevel, warnings, setWarnings, body };
}

function WorkflowForm({ editing, onDone }: { editing: Workflow | null; onDone: () => void }) {
  const f = useForm();
  const w = useWorkflowForm(editing);
  const { v, setV, levels } = w;
  const shown = [
    'name',
    'userGroup',
    'deviceGroup',
    ...levels.flatMap((_, i) => [`levels.${i}`, `levels.${i}.authority`, `levels.${i}.quorum`, `levels.${i}.escalateAfterMinutes`]),
  ];
  const submit = () =>
    f.run(async () => {
      if (w.warnings === null) {
        const q = editing ? `?editing=${encodeURIComponent(editing.name)}` : '';
        const { warnings } = await post<{ warnings: Warning[] }>(`/workflows/check${q}`, w.body());
        w.setWarnings(warnings);
        if (warnings.length) return;
      }
      if (editing) await put(`/workflows/${encodeURIComponent(editing.name)}`, w.body());
      else await post('/workflows', w.body());
      onDone();
    });
  const risky = !!w.warnings?.length;
  return (
    <Panel title={editing ? `Edit workflow ${editing.name}` : 'Add approval workflow'} onClose={onDone}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <WorkflowHead v={v} setV={setV} errors={f.errors} />
        {levels.map((l, i) => (
          <LevelFieldset
            key={i}
            l={l}
            i={i}
            count={levels.length}
            errors={f.errors}
            warnings={w.warnings ?? []}
            setLevel={w.setLevel}
            remove={(i) => w.setLevels(levels.filter((_, j) => j !== i))}
          />
        ))}
        {unplaced(f.errors, shown).map(([k, m]) => (
          <p key={k} className="error" role="alert">
            {m}
          </p>
        ))}
        <FormError errors={f.errors} />
        {risky && <p className="warnings">This workflow has a dead end (see the levels above). Save anyway, or change it.</p>}
        <div className="actions">
          {levels.length < 5 && (
            <button type="button" className="secondary" onClick={() => w.setLevels([...levels, { ...NEW_LEVEL }])}>
              Add level
            </button>
          )}
          <button type="submit" disabled={f.busy}>
            {risky ? 'Save anyway' : 'Save'}
          </button>
        </div>
      </form>
    </Panel>
  );
}

const aria = (p: { 'aria-invalid': boolean; 'aria-describedby'?: string }) => ({
  'aria-invalid': p['aria-invalid'],
  'aria-describedby': p['aria-describedby'],
});

export function WorkflowsPage() {
  const { data, error, reload } = useLoad(() => get<{ items: Workflow[] }>('/workflows'));
  const [panel, setPanel] = useState<Workflow | 'new' | null>(null);
  const remove = (w: Workflow) =>
    confirm(`Remove workflow ${w.name}?`) && void del(`/workflows/${encodeURIComponent(w.name)}`).then(reload);
  return (
    <>
      <p className="muted">A workflow for a user group × device group wins over user-group and device-group managerial approval.</p>
      <div className="actions">
        <button type="button" onClick={() => setPanel('new')}>
          Add workflow
        </button>
      </div>
      {panel && (
        <WorkflowForm
          key={panel === 'new' ? '' : panel.name}
          editing={panel === 'new' ? null : panel}
          onDone={() => (setPanel(null), reload())}
        />
      )}
      {error && <p className="error">{error}</p>}
      <Table
        label="Approval workflows"
        head={['Workflow', 'User group', 'Device group', 'Levels', 'Action']}
        ids={(data?.items ?? []).map((w) => w.name)}
        rows={(data?.items ?? []).map((w) => [
          w.name,
          w.userGroup,
          w.deviceGroup,
          <>
            <ol className="compact">
              {w.levels.map((l) => (
                <li key={l.level}>
                  {l.authority}, quorum {l.quorum}
                  {l.escalateAfterMinutes ? `, escalates after ${l.escalateAfterMinutes} min` : ''}
                </li>
              ))}
            </ol>
            <Warnings items={w.warnings.map((x) => x.message)} label={`Warnings for workflow ${w.name}`} />
          </>,
          <ActionMenu
            label={`workflow ${w.name}`}
            items={[
              { text: 'Edit', onSelect: () => setPanel(w) },
              { text: 'Remove', onSelect: () => remove(w) },
            ]}
          />,
        ])}
      />
    </>
  );
}
