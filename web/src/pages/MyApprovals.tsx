// My Approvals, for the requester: each request with device, protocol, account, reason, status, times
// and the Approver Manager (who can decide it), with Cancel. Live: changes arrive over SSE.
import { useState } from 'react';
import { get, post, qs } from '../api';
import { Status, Table, Time, useLive, useLoad } from '../ui';
import type { Approval } from '../types';
import { useFilter } from '../url';
import { APPROVAL_STATUSES, approverManagerText, endedVerb, statusLabel } from '../labels';

export function approverManager(a: Approval): string {
  return approverManagerText(a);
}

export function ApprovalTimes({ a }: { a: Approval }) {
  return (
    <ul className="times">
      <li>
        requested <Time at={a.createdAt} />
      </li>
      {a.status === 'waiting' && a.expiresAt && (
        <li>
          expires <Time at={a.expiresAt} />
        </li>
      )}
      {(a.decidedAt || a.status === 'expired') && (
        <li>
          {endedVerb(a.status)} <Time at={a.decidedAt ?? a.expiresAt} />
        </li>
      )}
      {a.grantEnd && (a.status === 'approved' || a.kind === 'reservation') && (
        <li>
          access <Time at={a.grantStart} /> – <Time at={a.grantEnd} />
        </li>
      )}
    </ul>
  );
}

type Page = { items: Approval[]; nextBeforeId: number | null };

// The requester's requests, page by page, kept current by the live event stream.
function useMyApprovals(status: string) {
  const [pages, setPages] = useState<Approval[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const { reload } = useLoad(async () => {
    const r = await get<Page>(`/approvals${qs({ scope: 'mine', status, limit: 50 })}`);
    setPages(r.items);
    setNext(r.nextBeforeId);
  }, [status]);
  useLive((ev, d) => {
    if (ev === 'open') return reload();
    if (ev !== 'approval') return;
    const r = d.request as Approval;
    setPages((list) =>
      list.some((x) => x.id === r.id) ? list.map((x) => (x.id === r.id ? { ...x, ...r, decisions: x.decisions } : x)) : list,
    );
    if (!pages.some((x) => x.id === r.id)) reload();
  });
  const more = async () => {
    const r = await get<Page>(`/approvals${qs({ scope: 'mine', status, limit: 50, beforeId: next })}`);
    setPages([...pages, ...r.items]);
    setNext(r.nextBeforeId);
  };
  return { pages, setPages, next, more };
}

function CancelButton({ a, onCancelled, setErr }: { a: Approval; onCancelled: (r: Approval) => void; setErr: (e: string) => void }) {
  return (
    <button
      type="button"
      className="small secondary"
      aria-label={`Cancel request ${a.id}`}
      onClick={() =>
        void post<Approval>(`/approvals/${a.id}/cancel`).then(
          (r) => onCancelled(r),
          (e: Error) => setErr(e.message),
        )
      }
    >
      Cancel
    </button>
  );
}

/** The status filter: the guide's labels shown, the API's lower-case values sent. */
function StatusFilter({ status, onChange }: { status: string; onChange: (v: string) => void }) {
  return (
    <div className="filters">
      <label htmlFor="my-status">Status</label>
      <select id="my-status" value={status} onChange={(e) => onChange(e.target.value)}>
        <option value="">All</option>
        {APPROVAL_STATUSES.map((s) => (
          <option key={s} value={s}>
            {statusLabel(s)}
          </option>
        ))}
      </select>
    </div>
  );
}

export function MyApprovalsPage() {
  const [{ status }, setFilter] = useFilter({ status: '' });
  const setStatus = (v: string) => setFilter({ status: v });
  const { pages, setPages, next, more } = useMyApprovals(status);
  const [err, setErr] = useState<string | null>(null);
  const onCancelled = (r: Approval) => setPages((l) => l.map((x) => (x.id === r.id ? r : x)));
  return (
    <>
      <StatusFilter status={status} onChange={setStatus} />
      {err && (
        <p className="error" role="alert">
          {err}
        </p>
      )}
      <Table
        label="My approval requests"
        ids={pages.map((a) => a.id)}
        head={['#', 'Device', 'Protocol', 'Account', 'Reason', 'Status', 'Times', 'Approver Manager', 'Comment', 'Action']}
        rows={pages.map((a) => [
          `#${a.id}`,
          a.device,
          a.protocol,
          a.account,
          a.reason ?? '—',
          <Status value={a.status} />,
          <ApprovalTimes a={a} />,
          <span className="approver-manager">{approverManager(a)}</span>,
          a.comment ?? '—',
          a.status === 'waiting' ? <CancelButton a={a} onCancelled={onCancelled} setErr={setErr} /> : '—',
        ])}
        empty="You have no approval requests. Ask for one on the Connect page."
      />
      {next && (
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void more()}>
            More
          </button>
        </div>
      )}
    </>
  );
}
