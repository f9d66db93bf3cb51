// Devices > Inventory: devices, device groups (Edit → Connection Approval Methods → Required
// Managerial Approval), and access rules (who may connect to which device group at all).
import { useState } from 'react';
import { Link } from 'react-router';
import { del, get, patch, post, put } from '../api';
import { Field, FormError, Panel, Steps, Table, Tabs, Toggle, names, useForm, useLoad } from '../ui';
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
        <Field label="Protocols (ssh, sftp, rdp, http)" name="protocols" errors={f.errors}>
          {(p) => <input {...p} value={v.protocols} onChange={set('protocols')} />}
        </Field>
        <Field label="Port (empty: the protocol's default)" name="ports" errors={f.errors}>
          {(p) => <input {...p} inputMode="numeric" value={v.port} onChange={set('port')} />}
        </Field>
        <Field label="Device group" name="group" errors={f.errors}>
          {(p) => <input {...p} value={v.group} onChange={set('group')} />}
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

const DG_STEPS = ['General', 'Connection Approval Methods'] as const;

function DeviceGroupWizard({ group, onDone }: { group: DeviceGroup | null; onDone: () => void }) {
  const f = useForm();
  const [step, setStep] = useState(0);
  const [v, setV] = useState({
    name: group?.name ?? '',
    managers: (group?.managers ?? []).join(', '),
    requireApproval: group?.requireApproval ?? false,
    requireReason: group?.requireReason ?? false,
  });
  const save = () =>
    f
      .run(async () => {
        const body = { managers: names(v.managers), requireApproval: v.requireApproval, requireReason: v.requireReason };
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
        {step === 1 && (
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
              label="Device group managers (usernames, comma-separated)"
              name="managers"
              errors={f.errors}
              hint="They approve when the requester's own group has no manager."
            >
              {(p) => <input {...p} value={v.managers} onChange={(e) => setV({ ...v, managers: e.target.value })} />}
            </Field>
          </>
        )}
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

function RuleForm({ onDone }: { onDone: () => void }) {
  const f = useForm();
  const [v, setV] = useState({ userGroup: '', deviceGroup: '', protocols: 'ssh', pf: false });
  const set = (k: 'userGroup' | 'deviceGroup' | 'protocols') => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <Panel title="Grant access" onClose={onDone}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void f
            .run(() =>
              put(`/access-rules/${encodeURIComponent(v.userGroup)}/${encodeURIComponent(v.deviceGroup)}`, {
                protocols: names(v.protocols),
                allowPortForwarding: v.pf,
              }),
            )
            .then((ok) => ok && onDone());
        }}
      >
        <Field label="User group" name="userGroup" errors={f.errors}>
          {(p) => <input {...p} value={v.userGroup} onChange={set('userGroup')} />}
        </Field>
        <Field label="Device group" name="deviceGroup" errors={f.errors}>
          {(p) => <input {...p} value={v.deviceGroup} onChange={set('deviceGroup')} />}
        </Field>
        <Field label="Protocols" name="protocols" errors={f.errors}>
          {(p) => <input {...p} value={v.protocols} onChange={set('protocols')} />}
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
  return (
    <>
      <div className="actions">
        <button type="button" onClick={onAdd}>
          Add device
        </button>
      </div>
      <Table
        label="Devices"
        head={['Device', 'Host', 'Protocols', 'Group', 'Accounts', 'SSH host key', 'Action']}
        rows={items.map((d) => [
          <Link to={deviceLink(d)}>{d.name}</Link>,
          d.host,
          d.protocols.map((p) => `${p}:${d.ports[p as keyof Device['ports']]}`).join(' '),
          d.group ?? '—',
          d.accounts.map((a) => a.name + (a.default ? ' (default)' : '')).join(', ') || '—',
          d.hostKey ? 'pinned' : 'not pinned',
          <Link className="button small" to={deviceLink(d)} aria-label={`Open device ${d.name}`}>
            Open
          </Link>,
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
        rows={items.map((g) => [
          g.name,
          g.devices.join(', ') || '—',
          g.managers.join(', ') || '—',
          g.requireApproval ? 'Required' : 'Off',
          g.requireReason ? 'Yes' : 'No',
          <button type="button" className="small" onClick={() => onEdit(g)} aria-label={`Edit device group ${g.name}`}>
            Edit
          </button>,
        ])}
      />
    </>
  );
}

function RulesTab({ items, onAdd, onDone }: { items: AccessRule[]; onAdd: () => void; onDone: () => void }) {
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
        rows={items.map((r) => [
          r.userGroup,
          r.deviceGroup,
          r.protocols.join(', '),
          r.allowPortForwarding ? 'allowed' : 'no',
          <button
            type="button"
            className="small danger"
            aria-label={`Remove access of ${r.userGroup} to ${r.deviceGroup}`}
            onClick={() =>
              void del(`/access-rules/${encodeURIComponent(r.userGroup)}/${encodeURIComponent(r.deviceGroup)}`).then(onDone, (e: Error) =>
                alert(e.message),
              )
            }
          >
            Remove
          </button>,
        ])}
      />
    </>
  );
}

export function InventoryPage() {
  const [tab, setTab] = useTab('tab', ['devices', 'groups', 'rules']);
  const devices = useLoad(() => get<{ items: Device[] }>('/devices'));
  const groups = useLoad(() => get<{ items: DeviceGroup[] }>('/device-groups'));
  const rules = useLoad(() => get<{ items: AccessRule[] }>('/access-rules'));
  const [panel, setPanel] = useState<'device' | 'rule' | DeviceGroup | 'group' | null>(null);
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
      {panel === 'device' && <DeviceForm onDone={done} />}
      {panel === 'rule' && <RuleForm onDone={done} />}
      {(panel === 'group' || (panel && typeof panel === 'object')) && (
        <DeviceGroupWizard
          key={typeof panel === 'object' ? panel.name : 'new'}
          group={typeof panel === 'object' ? panel : null}
          onDone={done}
        />
      )}
      {tab === 'devices' && <DevicesTab items={devices.data?.items ?? []} onAdd={() => setPanel('device')} />}
      {tab === 'groups' && <GroupsTab items={groups.data?.items ?? []} onAdd={() => setPanel('group')} onEdit={setPanel} />}
      {tab === 'rules' && <RulesTab items={rules.data?.items ?? []} onAdd={() => setPanel('rule')} onDone={done} />}
      {(devices.error || groups.error || rules.error) && <p className="error">{devices.error ?? groups.error ?? rules.error}</p>}
    </>
  );
}
