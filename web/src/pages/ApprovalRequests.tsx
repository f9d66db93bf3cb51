// Approval Requests, for approvers: what waits for me (Approve / Reject with a comment, Escalate), and
// the history of what I decided (Revoke an approval). Live: new requests and decisions arrive over SSE.
import { useState } from 'react';
import { get, post, qs } from '../api';
import { Status, Table, Tabs, useLive, useLoad } from '../ui';
import { ApprovalTimes, approverManager } from './MyApprovals';
import type { Approval } from '../types';
import { useTab } from '../url';

function Decide({ a, onDone }: { a: Approval; onDone: (r: Approval | null, err?: string) => void }) {
  const [comment, setComment] = useState('');
  const id = `comment-${a.id}`;
  const act = (what: string) =>
    post<Approval>(`/approvals/${a.id}/${what}`, what === 'escalate' ? {} : { comment: comment || undefined }).then(
      (r) => onDone(r),
      (e: Error) => onDone(null, e.message),
    );
  return (
    <div className="decide">
      <label htmlFor={id} className="visually-hidden">
        Comment on request {a.id}
      </label>
      <input id={id} placeholder="Comment" value={comment} onChange={(e) => setComment(e.target.value)} />
      {a.status === 'waiting' && a.canDecide && (
        <>
          <button type="button" className="small" onClick={() => void act('approve')} aria-label={`Approve request ${a.id}`}>
            Approve
          </button>
          <button type="button" className="small danger" onClick={() => void act('reject')} aria-label={`Reject request ${a.id}`}>
            Reject
          </button>
          <button type="button" className="small secondary" onClick={() => void act('escalate')} aria-label={`Escalate request ${a.id}`}>
            Escalate
          </button>
        </>
      )}
      {a.status === 'approved' && (
        <button type="button" className="small danger" onClick={() => void act('revoke')} aria-label={`Revoke request ${a.id}`}>
          Revoke
        </button>
      )}
    </div>
  );
}

export function ApprovalRequestsPage() {
  const [tab, setTab] = useTab('tab', ['to-decide', 'decided']);
  const [err, setErr] = useState<string | null>(null);
  const { data, reload } = useLoad(() => get<{ items: Approval[] }>(`/approvals${qs({ scope: tab, limit: 100 })}`), [tab]);
  useLive((ev) => (ev === 'approval' || ev === 'open') && reload());
  const items = data?.items ?? [];
  return (
    <>
      <Tabs
        label="Approval requests"
        value={tab}
        onChange={setTab}
        options={[
          ['to-decide', 'Waiting for me'],
          ['decided', 'History'],
        ]}
      />
      {err && (
        <p className="error" role="alert">
          {err}
        </p>
      )}
      <Table
        label={tab === 'to-decide' ? 'Requests waiting for me' : 'Requests I decided'}
        ids={items.map((a) => a.id)}
        head={[
          '#',
          'Requester',
          'Device',
          'Protocol',
          'Account',
          'Reason',
          'Status',
          'Times',
          'Level',
          'Approver Manager',
          'Comment',
          'Decision',
        ]}
        rows={items.map((a) => [
          `#${a.id}`,
          a.requester,
          a.device,
          a.protocol,
          a.account,
          a.reason ?? '—',
          <Status value={a.status} />,
          <ApprovalTimes a={a} />,
          `${a.currentLevel} of ${a.levels.length}${a.levels[a.currentLevel - 1]?.escalated ? ' (escalated)' : ''}`,
          approverManager(a),
          a.comment ?? '—',
          <Decide
            a={a}
            onDone={(_r, e) => {
              setErr(e ?? null);
              reload();
            }}
          />,
        ])}
        empty={tab === 'to-decide' ? 'Nothing waits for you.' : 'You have not decided any request yet.'}
      />
    </>
  );
}
