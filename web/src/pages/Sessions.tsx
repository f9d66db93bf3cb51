// Sessions: live and past proxied connections; administrators kill live ones.
import { useEffect, useState } from 'react';
import { get, post, qs } from '../api';
import { Panel, Table, Tabs, Time, useLive, useLoad } from '../ui';
import { RecordingPlayer } from './Player';
import { StatementsView } from './Statements';
import type { Session } from '../types';
import { useTab } from '../url';

const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

function PlayButton({ s, onPlay }: { s: Session; onPlay: (s: Session) => void }) {
  return (
    <button
      type="button"
      className="small secondary"
      aria-label={`${s.live ? 'Watch' : 'Play'} the recording of session ${s.id}`}
      onClick={() => onPlay(s)}
    >
      {s.live ? 'Watch live' : 'Play'}
    </button>
  );
}

const isDb = (s: Session) => s.protocol === 'postgres' || s.protocol === 'mysql';

function StatementsButton({ s, onOpen }: { s: Session; onOpen: (s: Session) => void }) {
  return (
    <button type="button" className="small secondary" aria-label={`Statements of session ${s.id}`} onClick={() => onOpen(s)}>
      Statements
    </button>
  );
}

function KillButton({ s, reload, setErr }: { s: Session; reload: () => void; setErr: (e: string) => void }) {
  return (
    <button
      type="button"
      className="small danger"
      aria-label={`Kill session ${s.id}`}
      onClick={() =>
        void post(`/sessions/${s.id}/kill`, {}).then(
          () => setTimeout(reload, 500),
          (e: Error) => setErr(e.message),
        )
      }
    >
      Kill
    </button>
  );
}

const sessionHead = (admin: boolean, state: string) => [
  '#',
  'User',
  'Device',
  'Account',
  'Protocol',
  'Approval',
  'From',
  'Started',
  'Ended',
  'Traffic',
  ...(admin ? ['Record'] : []),
  ...(admin && state === 'live' ? ['Action'] : []),
];

const sessionCells = (s: Session) => [
  `#${s.id}`,
  s.user,
  s.device,
  s.account,
  s.protocol,
  s.approvalId ? `#${s.approvalId}` : '—',
  s.clientAddress ?? '—',
  <Time at={s.startedAt} />,
  s.endedAt ? (
    <>
      <Time at={s.endedAt} /> {s.endReason ? `(${s.endReason})` : ''}
    </>
  ) : (
    'live'
  ),
  `${bytes(s.bytesIn)} ↑ ${bytes(s.bytesOut)} ↓`,
];

export function SessionsPage({ admin }: { admin: boolean }) {
  const [state, setState] = useTab('state', ['live', 'past']);
  const [err, setErr] = useState<string | null>(null);
  const [playing, setPlaying] = useState<Session | null>(null);
  const { data, reload } = useLoad(() => get<{ items: Session[] }>(`/sessions${qs({ state, limit: 100 })}`), [state]);
  // The player and a kill error belong to the tab they were opened on.
  useEffect(() => {
    setPlaying(null);
    setErr(null);
  }, [state]);
  useLive((ev) => (ev === 'session' || ev === 'approval' || ev === 'open') && setTimeout(reload, 300));
  return (
    <>
      <Tabs
        label="Sessions"
        value={state}
        onChange={setState}
        options={[
          ['live', 'Live'],
          ['past', 'Past'],
        ]}
      />
      <div className="actions">
        <button type="button" className="secondary" onClick={reload}>
          Refresh
        </button>
      </div>
      {err && (
        <p className="error" role="alert">
          {err}
        </p>
      )}
      <Table
        label={state === 'live' ? 'Live sessions' : 'Past sessions'}
        ids={(data?.items ?? []).map((s) => s.id)}
        head={sessionHead(admin, state)}
        rows={(data?.items ?? []).map((s) => [
          ...sessionCells(s),
          ...(admin
            ? [s.recording ? <PlayButton s={s} onPlay={setPlaying} /> : isDb(s) ? <StatementsButton s={s} onOpen={setPlaying} /> : '—']
            : []),
          ...(admin && state === 'live' ? [<KillButton s={s} reload={reload} setErr={setErr} />] : []),
        ])}
        empty={state === 'live' ? 'No live session.' : 'No past session.'}
      />
      {playing && (
        <Panel
          title={`Session #${playing.id}: ${playing.user} on ${playing.device} as ${playing.account}`}
          onClose={() => setPlaying(null)}
        >
          {isDb(playing) ? (
            <StatementsView sessionId={playing.id} live={playing.live} />
          ) : (
            <RecordingPlayer sessionId={playing.id} live={playing.live} />
          )}
        </Panel>
      )}
    </>
  );
}
