// One request's page (/approvals/<id>, linked from mail, chat and the CLI): who asks for what and why,
// the client address and the live countdown, the route (levels, quorum, who may approve each level,
// who decided), the requester's recent requests for this device, the history, and one decision.
import { useState } from 'react';
import { Link } from 'react-router';
import type { Static } from '@sinclair/typebox';
import type * as S from '../../../src/api/schemas';
import { get } from '../api';
import { Status, Time, useLive, useLoad } from '../ui';
import type { Approval, Me } from '../types';
import { Countdown, Decide, decisionLine } from './ApprovalCard';
import { press, useDecideKeys } from './ApprovalKeys';
import { NOBODY_NAMED } from '../labels';

type Detail = Static<typeof S.ApprovalDetail>;
type Decision = NonNullable<Approval['decisions']>[number];

function Summary({ a }: { a: Detail }) {
  return (
    <dl className="request-facts">
      <dt>Requester</dt>
      <dd>{a.requester}</dd>
      <dt>Access</dt>
      <dd>
        {a.account} on {a.device} · {a.protocol.toUpperCase()}
        {a.kind === 'reservation' ? ' · reservation' : ''}
      </dd>
      <dt>Reason</dt>
      <dd>{a.reason ?? <span className="muted">none given</span>}</dd>
      <dt>Status</dt>
      <dd>
        <Status value={a.status} />
        {a.status === 'waiting' && (
          <>
            {' '}
            <Countdown at={a.expiresAt} />
          </>
        )}
      </dd>
      <dt>Client address</dt>
      <dd>{a.clientAddress ?? <span className="muted">unknown</span>}</dd>
      <dt>Requested</dt>
      <dd>
        <Time at={a.createdAt} />
      </dd>
      {a.grantEnd && (
        <>
          <dt>Access window</dt>
          <dd>
            <Time at={a.grantStart} /> – <Time at={a.grantEnd} />
          </dd>
        </>
      )}
    </dl>
  );
}

function Route({ a }: { a: Detail }) {
  const by = (level: number) => (a.decisions ?? []).filter((d) => d.level === level);
  return (
    <section aria-labelledby="route-h" className="card">
      <h2 id="route-h">Route</h2>
      <p className="muted">
        {a.route.source} {a.route.name}: {a.route.why}
      </p>
      <ol className="route-levels">
        {a.levels.map((l) => (
          <li key={l.level} aria-current={a.status === 'waiting' && l.level === a.currentLevel ? 'step' : undefined}>
            <strong>Level {l.level}</strong> · {l.authority} · {l.quorum} of {l.approvers.length || '?'} must approve
            {l.escalated ? ' · escalated' : ''}
            <div>May approve: {l.approvers.length ? l.approvers.join(', ') : <span className="muted">{NOBODY_NAMED}</span>}</div>
            <div>
              Decided:{' '}
              {by(l.level)
                .map((d) => `${d.decision === 'approve' ? 'approved' : 'rejected'} by ${d.by}${d.onBehalfOf ? ` for ${d.onBehalfOf}` : ''}`)
                .join(', ') || <span className="muted">not yet</span>}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Recent({ a }: { a: Detail }) {
  return (
    <section aria-labelledby="recent-h" className="card">
      <h2 id="recent-h">
        {a.requester}'s recent requests for {a.device}
      </h2>
      {a.recent.length ? (
        <ul className="recent-list">
          {a.recent.map((x) => (
            <li key={x.id}>
              <Link to={`/approvals/${x.id}`}>#{x.id}</Link> <Time at={x.createdAt} /> · {x.account} · {x.protocol.toUpperCase()}{' '}
              <Status value={x.status} />
              {x.decidedBy && x.status !== 'expired' ? ` by ${x.decidedBy}` : ''}
              {x.comment ? ` · “${x.comment}”` : ''}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">None before this one.</p>
      )}
    </section>
  );
}

function history(a: Detail): { at: string | null; what: string }[] {
  const verb = (d: Decision) => (d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : d.decision);
  const h = [{ at: a.createdAt, what: `requested by ${a.requester}${a.clientAddress ? ` from ${a.clientAddress}` : ''}` }];
  for (const d of a.decisions ?? [])
    h.push({
      at: d.at,
      what: `level ${d.level} ${verb(d)} by ${d.by}${d.onBehalfOf ? ` for ${d.onBehalfOf}` : ''} (${d.channel})${d.comment ? `: “${d.comment}”` : ''}`,
    });
  for (const l of a.levels) if (l.escalated) h.push({ at: null, what: `level ${l.level} escalated` });
  if (a.status === 'expired') h.push({ at: a.expiresAt, what: 'expired' });
  else if (a.status !== 'waiting' && a.status !== 'approved' && a.status !== 'rejected')
    h.push({ at: a.decidedAt, what: `${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ''}` });
  return h;
}

function History({ a }: { a: Detail }) {
  return (
    <section aria-labelledby="history-h" className="card">
      <h2 id="history-h">History</h2>
      <ol className="request-history">
        {history(a).map((e, i) => (
          <li key={i}>
            {e.at ? <Time at={e.at} /> : <span className="muted">—</span>} {e.what}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function ApprovalRequestPage({ id, me }: { id: number; me: Me }) {
  const { data: a, error, reload } = useLoad(() => get<Detail>(`/approvals/${id}`), [id]);
  const [err, setErr] = useState<string | null>(null);
  const [line, setLine] = useState<string | null>(null);
  useLive((ev, d) => (ev === 'open' || (ev === 'approval' && (d.request as Approval | undefined)?.id === id)) && reload());
  const box = () => document.querySelector<HTMLElement>(`[data-decide="${id}"]`);
  useDecideKeys({ approve: () => press(box(), 'approve'), reject: () => press(box(), 'reject') });
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!a) return <p className="loading">Loading…</p>;
  return (
    <div className="request-page">
      <Summary a={a} />
      {err && (
        <p className="error" role="alert">
          {err}
        </p>
      )}
      <div role="status" aria-live="polite">
        {line && <p className="verdict">{line}</p>}
      </div>
      {a.status === 'waiting' && a.canDecide ? (
        <div className="card request-decide">
          <Decide
            a={a}
            onDone={(r, e) => {
              setErr(e ?? null);
              if (r) setLine(decisionLine({ ...r, decidedBy: r.decidedBy ?? me.user.username }, me.user.username));
              reload();
            }}
          />
          <p className="muted keys-hint">
            Keys: <kbd>a</kbd> approve, <kbd>r</kbd> reject.
          </p>
        </div>
      ) : (
        !line && a.status !== 'waiting' && <p className="verdict">{decisionLine(a, me.user.username)}</p>
      )}
      <Route a={a} />
      <History a={a} />
      <Recent a={a} />
    </div>
  );
}
