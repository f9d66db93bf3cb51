// One waiting request as a card (who, what, why, time left, Approve / Reject), the live countdown and
// the decision box the inbox and the request page share.
import { forwardRef, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { post } from '../api';
import { decisionBody } from '../passkey';
import type { Approval } from '../types';
import { statusLabel } from '../labels';

/** The current time, re-read every `ms`: countdowns move without a reload. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function timeLeft(expiresAt: string | null, now: number): string {
  if (!expiresAt) return 'no deadline';
  const s = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (s <= 0) return 'time is up';
  if (s < 60) return `${s} s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s left`;
  return `${Math.floor(m / 60)} h ${m % 60} min left`;
}

export function Countdown({ at }: { at: string | null }) {
  const now = useNow();
  const urgent = !!at && Date.parse(at) - now < 5 * 60_000;
  return (
    <span className={`countdown${urgent ? ' urgent' : ''}`} title={at ? `expires ${new Date(at).toLocaleString()}` : undefined}>
      {timeLeft(at, now)}
    </span>
  );
}

export const clock = (at: string | number) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** "Approved by you · 12:04": the line a decided request keeps after it leaves the waiting list. */
export function decisionLine(a: Approval, me: string): string {
  const by = a.decidedBy === me || a.decidedBy?.endsWith(`(${me})`) ? 'you' : (a.decidedBy ?? 'nobody');
  if (a.status === 'waiting') return `Approved by you · ${clock(Date.now())} · waiting for the next level`;
  if (a.status === 'expired') return `Expired · ${clock(a.expiresAt ?? Date.now())}`;
  return `${statusLabel(a.status)} by ${by} · ${clock(a.decidedAt ?? Date.now())}`;
}

export type Verdict = 'approve' | 'reject';

/** Comment (optional; required to reject when the parameter says so), Approve and Reject. */
export function Decide({ a, onDone, escalate }: { a: Approval; onDone: (r: Approval | null, err?: string) => void; escalate?: boolean }) {
  const [comment, setComment] = useState('');
  const [need, setNeed] = useState(false);
  const [busy, setBusy] = useState(false);
  const id = `comment-${a.id}`;
  const act = (what: Verdict | 'escalate') => {
    if (what === 'reject' && a.rejectCommentRequired && !comment.trim()) {
      setNeed(true);
      document.getElementById(id)?.focus();
      return;
    }
    setBusy(true);
    // With approval.decision.requires.passkey, the passkey confirms this action on this request first.
    decisionBody(a.id, what, what === 'escalate' ? {} : { comment: comment.trim() || undefined })
      .then((body) => post<Approval>(`/approvals/${a.id}/${what}`, body))
      .then(
        (r) => onDone(r),
        (e: Error) => onDone(null, e.message),
      )
      .finally(() => setBusy(false));
  };
  return (
    <div className="decide" data-decide={a.id}>
      <label htmlFor={id} className="visually-hidden">
        Comment on request {a.id}
        {a.rejectCommentRequired ? ' (required to reject)' : ' (optional)'}
      </label>
      <input
        id={id}
        placeholder={a.rejectCommentRequired ? 'Comment (required to reject)' : 'Comment (optional)'}
        value={comment}
        aria-invalid={need}
        aria-describedby={need ? `${id}-err` : undefined}
        onChange={(e) => (setComment(e.target.value), setNeed(false))}
      />
      <button type="button" disabled={busy} onClick={() => act('approve')} aria-label={`Approve request ${a.id}`} data-verdict="approve">
        Approve
      </button>
      <button
        type="button"
        disabled={busy}
        className="danger"
        onClick={() => act('reject')}
        aria-label={`Reject request ${a.id}`}
        data-verdict="reject"
      >
        Reject
      </button>
      {escalate && (
        <button type="button" disabled={busy} className="secondary" onClick={() => act('escalate')} aria-label={`Escalate request ${a.id}`}>
          Escalate
        </button>
      )}
      {need && (
        <small id={`${id}-err`} className="error" role="alert">
          A comment is required to reject: say why.
        </small>
      )}
    </div>
  );
}

/** A waiting request in the inbox. */
export const InboxCard = forwardRef<
  HTMLElement,
  { a: Approval; selected: boolean; onSelect: () => void; onDone: (r: Approval | null, err?: string) => void }
>(function InboxCard({ a, selected, onSelect, onDone }, ref) {
  const level = a.levels.length > 1 ? ` · level ${a.currentLevel} of ${a.levels.length}` : '';
  return (
    <article
      ref={ref}
      className={`inbox-card${selected ? ' selected' : ''}`}
      data-id={a.id}
      tabIndex={-1}
      aria-labelledby={`req-${a.id}`}
      aria-current={selected ? 'true' : undefined}
      onFocus={onSelect}
    >
      <div className="inbox-head">
        <h2 id={`req-${a.id}`}>
          <Link to={`/approvals/${a.id}`}>
            #{a.id} {a.requester}
          </Link>
        </h2>
        <Countdown at={a.expiresAt} />
      </div>
      <p className="inbox-what">
        <strong>{a.account}</strong> on <strong>{a.device}</strong> · {a.protocol.toUpperCase()}
        {a.kind === 'reservation' && a.grantStart ? ` · from ${new Date(a.grantStart).toLocaleString()}` : ''}
        {level}
      </p>
      <p className="inbox-why">{a.reason ? `“${a.reason}”` : <span className="muted">No reason given</span>}</p>
      <Decide a={a} onDone={onDone} escalate />
    </article>
  );
});
