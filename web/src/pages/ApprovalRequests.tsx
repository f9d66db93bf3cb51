// Approval Requests, the approver's inbox: every request waiting for me as a card that fits a laptop
// and a phone (who, what, why, time left, Approve / Reject), live over SSE, with j/k/a/r keys; a decided
// request leaves the list and says so ("Approved by you · 12:04"). History lists what I decided.
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { get, post, qs } from '../api';
import { decisionBody } from '../passkey';
import { Status, Tabs, useLive, useLoad } from '../ui';
import { approverManager } from './MyApprovals';
import type { Approval, Me } from '../types';
import { useTab } from '../url';
import { InboxCard, clock, decisionLine } from './ApprovalCard';
import { press, useDecideKeys } from './ApprovalKeys';
import { NotifyButton } from './ApprovalBadge';

interface Done {
  a: Approval;
  line: string;
}

function JustDecided({ done }: { done: Done[] }) {
  return (
    <section aria-label="Decided just now" className="just-decided">
      <div role="status" aria-live="polite">
        <ul>
          {done.map(({ a, line }) => (
            <li key={a.id} data-decided={a.id}>
              <Link to={`/approvals/${a.id}`}>
                #{a.id} {a.requester} · {a.account} on {a.device}
              </Link>{' '}
              <strong className={`verdict status-${a.status}`}>{line}</strong>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

function Waiting({ me, onError }: { me: Me; onError: (e: string | null) => void }) {
  const { data, reload } = useLoad(() => get<{ items: Approval[] }>(`/approvals${qs({ scope: 'to-decide', limit: 100 })}`), []);
  const [done, setDone] = useState<Done[]>([]);
  const [sel, setSel] = useState(0);
  const cards = useRef(new Map<number, HTMLElement>());
  const gone = new Set(done.map((d) => d.a.id));
  const items = (data?.items ?? []).filter((a) => a.status === 'waiting' && a.canDecide && !gone.has(a.id));
  const decided = (a: Approval, line: string) => setDone((l) => [{ a, line }, ...l.filter((d) => d.a.id !== a.id)].slice(0, 20));
  useLive((ev, d) => {
    if (ev === 'open') return reload();
    if (ev !== 'approval') return;
    const r = d.request as Approval;
    // Decided elsewhere (another approver, the CLI, a mail link): it leaves with who decided it.
    if (items.some((x) => x.id === r.id) && (r.status !== 'waiting' || !r.canDecide)) decided(r, decisionLine(r, me.user.username));
    reload();
  });
  const current = items[Math.min(sel, items.length - 1)];
  const focus = (i: number) => {
    const n = Math.max(0, Math.min(items.length - 1, i));
    setSel(n);
    cards.current.get(items[n]?.id)?.focus();
  };
  useEffect(() => {
    if (sel >= items.length && items.length) setSel(items.length - 1);
  }, [items.length]);
  useDecideKeys({
    next: () => focus(sel + 1),
    prev: () => focus(sel - 1),
    approve: () => press(current && cards.current.get(current.id), 'approve'),
    reject: () => press(current && cards.current.get(current.id), 'reject'),
  });
  return (
    <>
      {done.length > 0 && <JustDecided done={done} />}
      <section aria-label="Requests waiting for me" className="inbox">
        {data && !items.length && <p className="muted">Nothing waits for you.</p>}
        {items.map((a, i) => (
          <InboxCard
            key={a.id}
            ref={(el) => void (el ? cards.current.set(a.id, el) : cards.current.delete(a.id))}
            a={a}
            selected={a.id === current?.id}
            onSelect={() => setSel(i)}
            onDone={(r, e) => {
              onError(e ?? null);
              if (r) decided(r, decisionLine({ ...r, decidedBy: r.decidedBy ?? me.user.username }, me.user.username));
              reload();
            }}
          />
        ))}
      </section>
      <p className="muted keys-hint">
        Keys: <kbd>j</kbd> / <kbd>k</kbd> next / previous, <kbd>a</kbd> approve, <kbd>r</kbd> reject.
      </p>
    </>
  );
}

function History({ onError }: { onError: (e: string | null) => void }) {
  const { data, reload } = useLoad(() => get<{ items: Approval[] }>(`/approvals${qs({ scope: 'decided', limit: 100 })}`), []);
  useLive((ev) => (ev === 'approval' || ev === 'open') && reload());
  const items = data?.items ?? [];
  const revoke = (a: Approval) =>
    decisionBody(a.id, 'revoke', {})
      .then((body) => post<Approval>(`/approvals/${a.id}/revoke`, body))
      .then(
        () => (onError(null), reload()),
        (e: Error) => onError(e.message),
      );
  return (
    <section aria-label="Requests I decided" className="inbox">
      {data && !items.length && <p className="muted">You have not decided any request yet.</p>}
      <ul className="history-list">
        {items.map((a) => (
          <li key={a.id} data-id={a.id} className="history-item">
            <Link to={`/approvals/${a.id}`}>
              #{a.id} {a.requester} · {a.account} on {a.device} · {a.protocol.toUpperCase()}
            </Link>{' '}
            <Status value={a.status} /> <span className="muted">{a.decidedAt ? clock(a.decidedAt) : ''}</span>
            <div className="muted">
              {approverManager(a)}
              {a.comment ? ` · “${a.comment}”` : ''}
            </div>
            {a.status === 'approved' && (
              <button type="button" className="small danger" onClick={() => void revoke(a)} aria-label={`Revoke request ${a.id}`}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ApprovalRequestsPage({ me }: { me: Me }) {
  const [tab, setTab] = useTab('tab', ['to-decide', 'decided']);
  const [err, setErr] = useState<string | null>(null);
  return (
    <>
      <div className="inbox-bar">
        <Tabs
          label="Approval requests"
          value={tab}
          onChange={setTab}
          options={[
            ['to-decide', 'Waiting for me'],
            ['decided', 'History'],
          ]}
        />
        <NotifyButton />
      </div>
      {err && (
        <p className="error" role="alert">
          {err}
        </p>
      )}
      {tab === 'to-decide' ? <Waiting me={me} onError={setErr} /> : <History onError={setErr} />}
    </>
  );
}
