// Statements of a database session (PostgreSQL, MySQL): what the user ran, with row counts and errors.
// Parameter values show as "[redacted]" unless recording.db.parameters is on.
import { get, qs } from '../api';
import { Table, Time, useLive, useLoad } from '../ui';
import type { Statement } from '../types';

export function StatementsView({ sessionId, live }: { sessionId: number; live: boolean }) {
  const { data, error, reload } = useLoad(
    () => get<{ items: Statement[]; nextAfterId: number | null }>(`/sessions/${sessionId}/statements${qs({ limit: 1000 })}`),
    [sessionId],
  );
  useLive((ev) => live && ev === 'session' && setTimeout(reload, 300));
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  const items = data?.items ?? [];
  return (
    <>
      {live && (
        <div className="actions">
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
        </div>
      )}
      <Table
        label={`Statements of session ${sessionId}`}
        ids={items.map((s) => s.id)}
        head={['At', 'Kind', 'Statement', 'Parameters', 'Rows', 'Error']}
        rows={items.map((s) => [
          <Time at={s.at} />,
          s.kind,
          <code className="statement">{s.statement}</code>,
          s.parameters ?? '—',
          s.rowCount ?? '—',
          s.error ?? '—',
        ])}
        empty={data ? 'No statement recorded.' : 'Loading…'}
      />
      {data?.nextAfterId !== null && data?.nextAfterId !== undefined && <p>The first 1000 statements are shown; the API pages on.</p>}
    </>
  );
}
