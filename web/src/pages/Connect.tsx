// Connect: the devices I may reach and, per protocol, how to connect (the exact ssh command to copy,
// the HTTP app link), plus "request ahead": a reservation with start, end and reason.
import { useState } from 'react';
import { Link } from 'react-router';
import { get, post } from '../api';
import { Field, FormError, Panel, Table, useForm, useLoad } from '../ui';
import type { Me, Target, Way } from '../types';
import { peopleLine } from '../labels';

/** GET /connect also says, per way in, which request of mine already waits for a decision. */
type Waiting = { id: number; expiresAt: string | null } | null | undefined;
const waitingOf = (w: Way) => (w as Way & { waiting?: Waiting }).waiting;
const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function Approval({ w, admin }: { w: Way; admin: boolean }) {
  const waiting = waitingOf(w);
  if (waiting)
    return (
      <>
        request <Link to="/my-approvals">#{waiting.id}</Link> is already waiting
        {waiting.expiresAt ? ` (until ${clock(waiting.expiresAt)})` : ''}: connecting again reuses it
      </>
    );
  if (w.outcome === 'allowed') return <>allowed</>;
  if (w.noEligibleApprover)
    return <>{admin ? 'no eligible approver: give the group a manager' : 'no eligible approver: ask an administrator'}</>;
  return <>{`approval by ${peopleLine(w.approverManager)}${w.requireReason ? ' (reason required)' : ''}`}</>;
}

const localInput = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function RequestAhead({ t, onDone }: { t: Target; onDone: (msg: string | null) => void }) {
  const f = useForm();
  const now = new Date();
  const [v, setV] = useState({
    protocol: t.ways[0]?.protocol ?? 'ssh',
    account: '',
    start: localInput(new Date(now.getTime() + 3600_000)),
    end: localInput(new Date(now.getTime() + 7200_000)),
    reason: '',
  });
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <Panel title={`Request ahead: ${t.device}`} onClose={() => onDone(null)}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void f.run(async () => {
            const r = await post<{ outcome: string; request: { id: number } | null }>('/approvals', {
              device: t.device,
              protocol: v.protocol,
              ...(v.account ? { account: v.account } : {}),
              start: new Date(v.start).toISOString(),
              end: new Date(v.end).toISOString(),
              ...(v.reason ? { reason: v.reason } : {}),
            });
            onDone(
              r.request
                ? `Request #${r.request.id} is ${r.outcome}. Follow it on My Approvals.`
                : 'No approval is needed: connect at any time.',
            );
          });
        }}
      >
        <Field label="Protocol" name="protocol" errors={f.errors}>
          {(p) => (
            <select {...p} value={v.protocol} onChange={set('protocol')}>
              {t.ways.map((w) => (
                <option key={w.protocol}>{w.protocol}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Account" name="account" errors={f.errors}>
          {(p) => (
            <select {...p} value={v.account} onChange={set('account')}>
              <option value="">default</option>
              {t.accounts.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Start (your time zone)" name="start" errors={f.errors}>
          {(p) => <input {...p} type="datetime-local" value={v.start} onChange={set('start')} />}
        </Field>
        <Field label="End (your time zone)" name="end" errors={f.errors}>
          {(p) => <input {...p} type="datetime-local" value={v.end} onChange={set('end')} />}
        </Field>
        <Field label="Reason" name="reason" errors={f.errors}>
          {(p) => <textarea {...p} rows={2} value={v.reason} onChange={set('reason')} />}
        </Field>
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy}>
            Request
          </button>
        </div>
      </form>
    </Panel>
  );
}

/** RDP: a .rdp file carrying a one-time ticket (60 s to start); asks for approval first when needed. */
function RdpFile({ device, requireReason, onMsg }: { device: string; requireReason: boolean; onMsg: (m: string) => void }) {
  const fetchFile = async () => {
    const reason = requireReason ? (prompt(`Reason for connecting to ${device}`) ?? '') : undefined;
    if (requireReason && !reason) return;
    try {
      const r = await post<{ outcome: string; file?: string; filename?: string; requestId?: number; approvers?: string[] }>(
        '/rdp/tickets',
        { device, ...(reason ? { reason } : {}) },
      );
      if (r.outcome === 'allowed' && r.file) {
        const url = URL.createObjectURL(new Blob([r.file], { type: 'application/x-rdp' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = r.filename ?? `${device}.rdp`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        onMsg(`The .rdp file for ${device} is downloaded: open it within 60 seconds.`);
      } else onMsg(`Request #${r.requestId} waits for ${peopleLine(r.approvers ?? [])}. Once approved, get the .rdp file again.`);
    } catch (e) {
      onMsg((e as Error).message);
    }
  };
  return (
    <button type="button" className="small secondary" onClick={() => void fetchFile()} aria-label={`Get the .rdp file for ${device}`}>
      Get .rdp file
    </button>
  );
}

function Copy({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <span className="copy">
      <code>{text}</code>
      <button
        type="button"
        className="small secondary"
        aria-label={label}
        onClick={() => void navigator.clipboard?.writeText(text).then(() => setDone(true))}
      >
        {done ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}

export function ConnectPage({ me }: { me: Me }) {
  const { data, error } = useLoad(() => get<{ items: Target[] }>('/connect'));
  const [ahead, setAhead] = useState<Target | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  return (
    <>
      <p className="muted">
        SSH and SFTP go through the gateway at {me.sshHost}:{me.sshPort}. A connection that needs approval waits until an Approver Manager
        decides.
      </p>
      {msg && (
        <p className="ok" role="status">
          {msg}
        </p>
      )}
      {ahead && <RequestAhead t={ahead} onDone={(m) => (setAhead(null), setMsg(m))} />}
      {error && <p className="error">{error}</p>}
      {me.roles.admin && data && data.items.length === 0 && (
        <p className="ok" role="status">
          No device is open to you yet: <Link to="/devices/inventory">add an access rule</Link> (Devices › Inventory, Grant access) that
          lets one of your user groups reach a device group.
        </p>
      )}
      <Table
        label="Devices I may reach"
        ids={(data?.items ?? []).map((t) => t.device)}
        head={['Device', 'Group', 'How to connect', 'Approval', 'Action']}
        rows={(data?.items ?? []).map((t) => [
          t.device,
          t.group ?? '—',
          <ul className="ways">
            {t.ways.map((w) => (
              <li key={w.protocol}>
                <strong>{w.protocol}</strong>{' '}
                {w.command ? (
                  <Copy text={w.command} label={`Copy the ${w.protocol} command for ${t.device}`} />
                ) : w.link ? (
                  <a href={w.link}>{w.link}</a>
                ) : w.protocol === 'rdp' ? (
                  <RdpFile device={t.device} requireReason={w.requireReason} onMsg={setMsg} />
                ) : (
                  <span className="muted">not available yet</span>
                )}
              </li>
            ))}
          </ul>,
          <ul className="ways">
            {t.ways.map((w) => (
              <li key={w.protocol}>
                {w.protocol}: <Approval w={w} admin={me.roles.admin} />
              </li>
            ))}
          </ul>,
          <button type="button" className="small" onClick={() => setAhead(t)} aria-label={`Request ahead for ${t.device}`}>
            Request ahead
          </button>,
        ])}
        empty={
          me.roles.admin
            ? 'No device is open to you yet: add an access rule.'
            : 'No device is open to you yet: ask an administrator for an access rule.'
        }
      />
    </>
  );
}
