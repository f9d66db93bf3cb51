// Users > User Groups. "Edit Group" is a short wizard, as in the guide: General → Members → Require
// Connection Approval ("Required Managerial Approval from the Group Manager", "Require user to enter a
// reason for connection", and the group's managers) → Save. The server checks every step's values
// and saves all or nothing; the group and the step are in the URL (?edit=<group>&step=members).
import { useState } from 'react';
import { get, patch, post } from '../api';
import { Picker } from '../picker';
import { useFilter } from '../url';
import { ActionMenu, Field, FormError, Panel, Steps, Table, Toggle, useForm, useLoad } from '../ui';
import type { UserGroup } from '../types';

const STEPS = ['General', 'Members', 'Require Connection Approval'] as const;
const STEP_KEYS = ['general', 'members', 'approval'] as const;
/** The fields each step shows; an error on another step's field takes the wizard there. */
const STEP_FIELDS: readonly (readonly string[])[] = [['name', 'rename'], ['members'], ['managers']];

interface GroupValues {
  name: string;
  members: string[];
  managers: string[];
  requireApproval: boolean;
  requireReason: boolean;
}

/** The dead end a save would create: approval required, nobody to give it. */
const noManager = (v: GroupValues) => v.requireApproval && v.managers.length === 0;

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
        <Field label="Members" name="members" errors={errors} hint="Type to find a user; only existing users are offered.">
          {(p) => <Picker kind="user" multiple label="Members" {...p} value={v.members} onChange={(x) => setV({ ...v, members: x })} />}
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
          <Field label="Group managers" name="managers" errors={errors} hint="They approve or reject the members' connections.">
            {(p) => (
              <Picker kind="user" multiple label="Group managers" {...p} value={v.managers} onChange={(x) => setV({ ...v, managers: x })} />
            )}
          </Field>
          {noManager(v) && (
            <p className="wizard-warning" role="status">
              This group has no manager: with Required Managerial Approval on, every member&apos;s connection will be refused until you name
              one. Name a group manager, or save anyway to lock the group down.
            </p>
          )}
        </>
      )}
    </>
  );
}

function GroupWizard(props: { group: UserGroup | null; step: number; setStep: (n: number) => void; onDone: (saved: boolean) => void }) {
  const { group, step, setStep, onDone } = props;
  const f = useForm();
  const [v, setV] = useState<GroupValues>({
    name: group?.name ?? '',
    members: group?.members ?? [],
    managers: group?.managers ?? [],
    requireApproval: group?.requireApproval ?? false,
    requireReason: group?.requireReason ?? false,
  });
  const save = async () => {
    const body = { members: v.members, managers: v.managers, requireApproval: v.requireApproval, requireReason: v.requireReason };
    let failed: Record<string, string> = {};
    const ok = await f.run(async () => {
      try {
        if (group)
          await patch(`/user-groups/${encodeURIComponent(group.name)}`, { ...body, ...(v.name !== group.name ? { rename: v.name } : {}) });
        else await post('/user-groups', { name: v.name, ...body });
      } catch (e) {
        failed = (e as { fields?: Record<string, string> }).fields ?? {};
        throw e;
      }
    });
    if (ok) return onDone(true);
    // The first step with a problem is shown; the others' problems are listed above the buttons.
    const at = STEP_FIELDS.findIndex((names) => names.some((n) => failed[n] !== undefined));
    if (at >= 0 && at !== step) setStep(at);
  };
  const last = step === STEPS.length - 1;
  return (
    <Panel title={group ? `Edit Group ${group.name}` : 'Add Group'} onClose={() => onDone(false)}>
      <Steps steps={STEPS} current={step} />
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!last) setStep(step + 1);
          else void save();
        }}
      >
        <h3>{STEPS[step]}</h3>
        <GroupStepFields step={step} renaming={!!group} v={v} setV={setV} errors={f.errors} />
        <FormError errors={f.errors} shown={STEP_FIELDS[step]} />
        <div className="actions">
          {step > 0 && (
            <button type="button" className="secondary" onClick={() => setStep(step - 1)}>
              Back
            </button>
          )}
          {last ? (
            <button type="submit" disabled={f.busy}>
              {noManager(v) ? 'Save anyway' : 'Save'}
            </button>
          ) : (
            <button type="submit">Next</button>
          )}
        </div>
      </form>
    </Panel>
  );
}

export function UserGroupsPage() {
  const { data, error, reload } = useLoad(() => get<{ items: UserGroup[] }>('/user-groups'));
  const [{ edit, step }, setFilter] = useFilter({ edit: '', step: 'general' });
  const at = Math.max(0, STEP_KEYS.indexOf(step as (typeof STEP_KEYS)[number]));
  const open = (name: string) => setFilter({ edit: name, step: 'general' });
  const editing = edit === 'new' ? null : (data?.items.find((g) => g.name === edit) ?? undefined);
  return (
    <>
      <div className="actions">
        <button type="button" onClick={() => open('new')}>
          Add Group
        </button>
      </div>
      {edit && editing !== undefined && (
        <GroupWizard
          key={edit}
          group={editing}
          step={at}
          setStep={(n) => setFilter({ edit, step: STEP_KEYS[n] }, true)}
          onDone={(saved) => {
            setFilter({ edit: '', step: 'general' });
            if (saved) reload();
          }}
        />
      )}
      {error && <p className="error">{error}</p>}
      <Table
        label="User groups"
        head={['Group', 'Members', 'Managers', 'Managerial approval', 'Reason required', 'Action']}
        ids={(data?.items ?? []).map((g) => g.name)}
        rows={(data?.items ?? []).map((g) => [
          g.name,
          g.members.join(', ') || '—',
          g.managers.join(', ') || '—',
          g.requireApproval ? 'Required' : 'Off',
          g.requireReason ? 'Yes' : 'No',
          <ActionMenu label={`group ${g.name}`} items={[{ text: 'Edit Group', onSelect: () => open(g.name) }]} />,
        ])}
      />
    </>
  );
}
