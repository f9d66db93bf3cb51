// Devices > Inventory: devices, device groups (Edit → Connection Approval Methods → Required
// Managerial Approval), and access rules (who may connect to which device group at all).
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, del, get, patch, post, put } from '../api';
import { useForm, type FieldErrors } from '../errors';
import { Warnings } from '../warnings';
import { Picker } from '../picker';
import { ActionMenu, Field, FormError, Panel, Steps, Table, Tabs, Toggle, names, useLoad } from '../ui';
import type { AccessRule, Device, DeviceGroup } from '../types';
import { useTab } from '../url';

function DeviceForm({ onDone }: { onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState({ name: '', host: '', protocols: 'ssh', group: '', port: '' });
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <Panel title="Add device" onClose={onDone}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void f
            .run(() => {
              const protocols = names(v.protocols);
              const ports = v.port ? Object.fromEntries(protocols.map((p) => [p, Number(v.port)])) : undefined;
              return post('/devices', { name: v.name, host: v.host, protocols, group: v.group || null, ...(ports ? { ports } : {}) });
            })
            .then((ok) => ok && onDone());
        }}
      >
        <Field label="Name" name="name" errors={f.errors}>
          {(p) => <input {...p} value={v.name} onChange={set('name')} />}
        </Field>
        <Field label="Host" name="host" errors={f.errors}>
          {(p) => <input {...p} value={v.host} onChange={set('host')} />}
        </Field>
        <Field label="Protocols (ssh, sftp, rdp, http, postgres, mysql)" name="protocols" errors={f.errors}>
          {(p) => <input {...p} value={v.protocols} onChange={set('protocols')} />}
        </Field>
        <Field label="Port (empty: the protocol's default)" name="ports" errors={f.errors}>
          {(p) => <input {...p} inputMode="numeric" value={v.port} onChange={set('port')} />}
        </Field>
        <Field label="Device group" name="group" errors={f.errors}>
          {(p) => <Picker kind="deviceGroup" id={p.id} label="Device group" value={v.group} onChange={(x) => setV({ ...v, group: x })} />}
        </Field>
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy}>
            Save
          </button>
        </div>
      </form>
    </Panel>
  );
}

type GroupValues = { name: string; managers: string[]; requireApproval: boolean; requireReason: boolean };

function ApprovalStep({ v, setV, errors }: { v: GroupValues; setV: (v: GroupValues) => void; errors: FieldErrors }) {
  const f = { errors };
  return (
    <>
      <Toggle
        label="Required Managerial Approval"
        checked={v.requireApproval}
        onChange={(x) => setV({ ...v, requireApproval: x })}
        hint="Every connection to this group's devices waits for a manager's approval."
      />
      <Toggle
        label="Require user to enter a reason for connection"
        checked={v.requireReason}
        onChange={(x) => setV({ ...v, requireReason: x })}
      />
      <Field
        label="Device group managers"
        name="managers"
        errors={f.errors}
        hint="They approve when the requester's own group has no manager."
      >
        {(p) => (
          <Picker
            kind="user"
            multiple
            id={p.id}
            label="Device group managers"
            value={v.managers}
            onChange={(x) => setV({ ...v, managers: x })}
            aria-describedby={p['aria-describedby']}
          />
        )}
      </Field>
    </>
  );
}

const DG_STEPS = ['General', 'Connection Approval Methods'] as const;

function DeviceGroupWizard({ group, onDone }: { group: DeviceGroup | null; onDone: () => void }) {
  const f = useForm();
  const [step, setStep] = useState(0);
  const [v, setV] = useState<GroupValues>({
    name: group?.name ?? '',
    managers: group?.managers ?? [],
    requireApproval: group?.requireApproval ?? false,
    requireReason: group?.requireReason ?? false,
  });
  const save = () =>
    f
      .run(async () => {
        const body = { managers: v.managers, requireApproval: v.requireApproval, requireReason: v.requireReason };
        if (group)
          await patch(`/device-groups/${encodeURIComponent(group.name)}`, {
            ...body,
            ...(v.name !== group.name ? { rename: v.name } : {}),
          });
        else await post('/device-groups', { name: v.name, ...body });
      })
      .then((ok) => ok && onDone());
  if ((f.errors.name || f.errors.rename) && step !== 0) setStep(0);
  return (
    <Panel title={group ? `Edit device group ${group.name}` : 'Add device group'} onClose={onDone}>
      <Steps steps={DG_STEPS} current={step} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (step < DG_STEPS.length - 1) setStep(step + 1);
          else void save();
        }}
      >
        <h3>{DG_STEPS[step]}</h3>
        {step === 0 && (
          <Field label="Device group name" name={group ? 'rename' : 'name'} errors={f.errors}>
            {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
          </Field>
        )}
        {step === 1 && <ApprovalStep v={v} setV={setV} errors={f.errors} />}
        <FormError errors={f.errors} />
        <div className="actions">
          {step > 0 && (
            <button type="button" className="secondary" onClick={() => setStep(step - 1)}>
              Back
            </button>
          )}
          {step < DG_STEPS.length - 1 ? (
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

function RuleForm({ rule, onDone }: { rule: AccessRule | null; onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState({
    userGroup: rule?.userGroup ?? '',
    deviceGroup: rule?.deviceGroup ?? '',
    protocols: rule?.protocols.join(', ') ?? 'ssh',
    pf: rule?.allowPortForwarding ?? false,
  });
  return (
    <Panel title={rule ? `Edit access of ${rule.userGroup} to ${rule.deviceGroup}` : 'Grant access'} onClose={onDone}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void f
            .run(async () => {
              const missing = {
                ...(v.userGroup ? {} : { userGroup: 'User group is required' }),
                ...(v.deviceGroup ? {} : { deviceGroup: 'Device group is required' }),
              };
              // The names are the rule's address: without them there is nothing to send.
              if (Object.keys(missing).length) throw new ApiError(400, 'invalid', 'Choose both groups', undefined, missing);
              await put(`/access-rules/${encodeURIComponent(v.userGroup)}/${encodeURIComponent(v.deviceGroup)}`, {
                protocols: names(v.protocols),
                allowPortForwarding: v.pf,
              });
            })
            .then((ok) => ok && onDone());
        }}
      >
        {!rule && (
          <>
            <Field label="User group" name="userGroup" errors={f.errors}>
              {(p) => (
                <Picker kind="group" id={p.id} label="User group" value={v.userGroup} onChange={(x) => setV({ ...v, userGroup: x })} />
              )}
            </Field>
            <Field label="Device group" name="deviceGroup" errors={f.errors}>
              {(p) => (
                <Picker
                  kind="deviceGroup"
                  id={p.id}
                  label="Device group"
                  value={v.deviceGroup}
                  onChange={(x) => setV({ ...v, deviceGroup: x })}
                />
              )}
            </Field>
          </>
        )}
        <Field label="Protocols (ssh, sftp, rdp, http, postgres, mysql)" name="protocols" errors={f.errors}>
          {(p) => <input {...p} value={v.protocols} onChange={(e) => setV({ ...v, protocols: e.target.value })} />}
        </Field>
        <Toggle label="Allow SSH port forwarding" checked={v.pf} onChange={(x) => setV({ ...v, pf: x })} />
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy}>
            Save
          </button>
        </div>
      </form>
    </Panel>
  );
}

const deviceLink = (d: Device) => `/devices/inventory/${encodeURIComponent(d.name)}`;

function DevicesTab({ items, onAdd }: { items: Device[]; onAdd: () => void }) {
  const go = useNavigate();
  const bare = items.filter((d) => d.warnings.length);
  return (
    <>
      <div className="actions">
        <button type="button" onClick={onAdd}>
          Add device
        </button>
      </div>
      {bare.length > 0 && <Warnings label="Devices with a dead end" items={bare.map((d) => `${d.name}: ${d.warnings.join('; ')}`)} />}
      <Table
        label="Devices"
        head={['Device', 'Host', 'Protocols', 'Group', 'Accounts', 'SSH host key', 'Action']}
        ids={items.map((d) => d.name)}
        rows={items.map((d) => [
          <Link to={deviceLink(d)}>{d.name}</Link>,
          d.host,
          d.protocols.map((p) => `${p}:${d.ports[p as keyof Device['ports']]}`).join(' '),
          d.group ?? '—',
          d.accounts.map((a) => a.name + (a.default ? ' (default)' : '')).join(', ') || <span className="warn-text">⚠ no account</span>,
          d.hostKey ? 'pinned' : 'not pinned',
          <ActionMenu
            label={`device ${d.name}`}
            items={[
              { text: 'Open', onSelect: () => void go(deviceLink(d)) },
              { text: 'Edit', onSelect: () => void go(`${deviceLink(d)}?edit=1`) },
            ]}
          />,
        ])}
      />
    </>
  );
}

function GroupsTab({ items, onAdd, onEdit }: { items: DeviceGroup[]; onAdd: () => void; onEdit: (g: DeviceGroup) => void }) {
  return (
    <>
      <div className="actions">
        <button type="button" onClick={onAdd}>
          Add device group
        </button>
      </div>
      <Table
        label="Device groups"
        head={['Device group', 'Devices', 'Managers', 'Managerial approval', 'Reason required', 'Action']}
        ids={items.map((g) => g.name)}
        rows={items.map((g) => [
          g.name,
          g.devices.join(', ') || '—',
          g.managers.join(', ') || '—',
          g.requireApproval ? 'Required' : 'Off',
          g.requireReason ? 'Yes' : 'No',
          <ActionMenu label={`device group ${g.name}`} items={[{ text: 'Edit Group', onSelect: () => onEdit(g) }]} />,
        ])}
      />
    </>
  );
}

function RulesTab(props: { items: AccessRule[]; onAdd: () => void; onEdit: (r: AccessRule) => void; onDone: () => void }) {
  const { items, onAdd, onEdit, onDone } = props;
  const remove = (r: AccessRule) =>
    confirm(`Remove access of ${r.userGroup} to ${r.deviceGroup}?`) &&
    void del(`/access-rules/${encodeURIComponent(r.userGroup)}/${encodeURIComponent(r.deviceGroup)}`).then(onDone, (e: Error) =>
      alert(e.message),
    );
  return (
    <>
      <div className="actions">
        <button type="button" onClick={onAdd}>
          Grant access
        </button>
      </div>
      <Table
        label="Access rules"
        head={['User group', 'Device group', 'Protocols', 'Port forwarding', 'Action']}
        ids={items.map((r) => `${r.userGroup}:${r.deviceGroup}`)}
        rows={items.map((r) => [
          r.userGroup,
          r.deviceGroup,
          r.protocols.join(', '),
          r.allowPortForwarding ? 'allowed' : 'no',
          <ActionMenu
            label={`access of ${r.userGroup} to ${r.deviceGroup}`}
            items={[
              { text: 'Edit', onSelect: () => onEdit(r) },
              { text: 'Remove', onSelect: () => remove(r) },
            ]}
          />,
        ])}
      />
    </>
  );
}

type PanelState = { kind: 'device' } | { kind: 'rule'; rule: AccessRule | null } | { kind: 'group'; group: DeviceGroup | null } | null;

export function InventoryPage() {
  const [tab, setTab] = useTab('tab', ['devices', 'groups', 'rules']);
  const devices = useLoad(() => get<{ items: Device[] }>('/devices'));
  const groups = useLoad(() => get<{ items: DeviceGroup[] }>('/device-groups'));
  const rules = useLoad(() => get<{ items: AccessRule[] }>('/access-rules'));
  const [panel, setPanel] = useState<PanelState>(null);
  // A form belongs to its tab: another tab (a click, the back button, a link) closes it.
  useEffect(() => setPanel(null), [tab]);
  const done = () => {
    setPanel(null);
    devices.reload();
    groups.reload();
    rules.reload();
  };
  return (
    <>
      <Tabs
        label="Inventory"
        value={tab}
        onChange={setTab}
        options={[
          ['devices', 'Devices'],
          ['groups', 'Device Groups'],
          ['rules', 'Access Rules'],
        ]}
      />
      {panel?.kind === 'device' && <DeviceForm onDone={done} />}
      {panel?.kind === 'rule' && <RuleForm key={panel.rule?.id ?? 'new'} rule={panel.rule} onDone={done} />}
      {panel?.kind === 'group' && <DeviceGroupWizard key={panel.group?.name ?? 'new'} group={panel.group} onDone={done} />}
      {tab === 'devices' && <DevicesTab items={devices.data?.items ?? []} onAdd={() => setPanel({ kind: 'device' })} />}
      {tab === 'groups' && (
        <GroupsTab
          items={groups.data?.items ?? []}
          onAdd={() => setPanel({ kind: 'group', group: null })}
          onEdit={(g) => setPanel({ kind: 'group', group: g })}
        />
      )}
      {tab === 'rules' && (
        <RulesTab
          items={rules.data?.items ?? []}
          onAdd={() => setPanel({ kind: 'rule', rule: null })}
          onEdit={(r) => setPanel({ kind: 'rule', rule: r })}
          onDone={done}
        />
      )}
      {(devices.error || groups.error || rules.error) && <p className="error">{devices.error ?? groups.error ?? rules.error}</p>}
    </>
  );
}
