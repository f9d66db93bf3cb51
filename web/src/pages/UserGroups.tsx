// Users > User Groups. "Edit Group" is a short wizard, as in the guide: General → Members → Require
// Connection Approval ("Required Managerial Approval from the Group Manager", "Require user to enter a
// reason for connection", and the group's managers) → Save.
import { useState } from 'react';
import { get, patch, post } from '../api';
import { Field, FormError, Panel, Steps, Table, Toggle, names, useForm, useLoad } from '../ui';
import type { UserGroup } from '../types';

const STEPS = ['General', 'Members', 'Require Connection Approval'] as const;

interface GroupValues {
  name: string;
  members: string;
  managers: string;
  requireApproval: boolean;
  requireReason: boolean;
}

function GroupStepFields(props: {
  step: number;
  renaming: boolean;
  v: GroupValues;
  setV: (v: GroupValues) => void;
  errors: Record<string, string>;
}) {
  const { step, renaming, v, setV, errors } = props;
  return (
    <>
      {step === 0 && (
        <Field label="Group name" name={renaming ? 'rename' : 'name'} errors={errors}>
          {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
        </Field>
      )}
      {step === 1 && (
        <Field label="Members (usernames, comma-separated)" name="members" errors={errors}>
          {(p) => <textarea {...p} rows={3} value={v.members} onChange={(e) => setV({ ...v, members: e.target.value })} />}
        </Field>
      )}
      {step === 2 && (
        <>
          <Toggle
            label="Required Managerial Approval from the Group Manager"
            checked={v.requireApproval}
            onChange={(x) => setV({ ...v, requireApproval: x })}
            hint="Every member's connection waits until a manager of this group approves it."
          />
          <Toggle
            label="Require user to enter a reason for connection"
            checked={v.requireReason}
            onChange={(x) => setV({ ...v, requireReason: x })}
          />
          <Field
            label="Group managers (usernames, comma-separated)"
            name="managers"
            errors={errors}
            hint="They approve or reject the members' connections."
          >
            {(p) => <input {...p} value={v.managers} onChange={(e) => setV({ ...v, managers: e.target.value })} />}
          </Field>
        </>
      )}
    </>
  );
}

function GroupWizard({ group, onDone }: { group: UserGroup | null; onDone: () => void }) {
  const f = useForm();
  const [step, setStep] = useState(0);
  const [v, setV] = useState<GroupValues>({
    name: group?.name ?? '',
    members: (group?.members ?? []).join(', '),
    managers: (group?.managers ?? []).join(', '),
    requireApproval: group?.requireApproval ?? false,
    requireReason: group?.requireReason ?? false,
  });
  const STEP_OF: Record<string, number> = { name: 0, rename: 0, members: 1, managers: 2 };
  const save = async () => {
    const ok = await f.run(async () => {
      const body = {
        members: names(v.members),
        managers: names(v.managers),
        requireApproval: v.requireApproval,
        requireReason: v.requireReason,
      };
      if (group)
        await patch(`/user-groups/${encodeURIComponent(group.name)}`, { ...body, ...(v.name !== group.name ? { rename: v.name } : {}) });
      else await post('/user-groups', { name: v.name, ...body });
    });
    if (ok) onDone();
  };
  // A server error about a field on another step takes the wizard there.
  const errStep = Object.keys(f.errors)
    .map((k) => STEP_OF[k])
    .find((x) => x !== undefined);
  if (errStep !== undefined && errStep !== step) setStep(errStep);
  return (
    <Panel title={group ? `Edit Group ${group.name}` : 'Add Group'} onClose={onDone}>
      <Steps steps={STEPS} current={step} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (step < STEPS.length - 1) setStep(step + 1);
          else void save();
        }}
      >
        <h3>{STEPS[step]}</h3>
        <GroupStepFields step={step} renaming={!!group} v={v} setV={setV} errors={f.errors} />
        <FormError errors={f.errors} />
        <div className="actions">
          {step > 0 && (
            <button type="button" className="secondary" onClick={() => setStep(step - 1)}>
              Back
            </button>
          )}
          {step < STEPS.length - 1 ? (
            <button type="submit">Next</button>
          ) : (
            <button type="submit" disabled={f.busy}>
              Save
            </button>
          )}
        </div>
      </form>
    </Panel>
  );
}

export function UserGroupsPage() {
  const { data, error, reload } = useLoad(() => get<{ items: UserGroup[] }>('/user-groups'));
  const [editing, setEditing] = useState<UserGroup | 'new' | null>(null);
  return (
    <>
      <div className="actions">
        <button type="button" onClick={() => setEditing('new')}>
          Add Group
        </button>
      </div>
      {editing && (
        <GroupWizard
          key={editing === 'new' ? 'new' : editing.name}
          group={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      {error && <p className="error">{error}</p>}
      <Table
        label="User groups"
        head={['Group', 'Members', 'Managers', 'Managerial approval', 'Reason required', 'Action']}
        rows={(data?.items ?? []).map((g) => [
          g.name,
          g.members.join(', ') || '—',
          g.managers.join(', ') || '—',
          g.requireApproval ? 'Required' : 'Off',
          g.requireReason ? 'Yes' : 'No',
          <button type="button" className="small" onClick={() => setEditing(g)} aria-label={`Edit Group ${g.name}`}>
            Edit Group
          </button>,
        ])}
      />
    </>
  );
}
